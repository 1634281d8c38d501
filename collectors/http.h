/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The collector's HTTP server (libmicrohttpd): the JSON API, the event
 * stream and the dashboard's static files, exactly as collectors/API.md
 * says. It reads the store (store.h) and nothing else; only this module
 * includes microhttpd.h.
 */
#ifndef VC_HTTP_H
#define VC_HTTP_H

#include "store.h"

#include <stddef.h>

struct vc_http;
struct vc_view;

/* Caps of the server (STYLE.md: one place for the bounds). */
#define VC_HTTP_MAX_CONNECTIONS 64 /* one thread each, streams included */
#define VC_HTTP_MAX_PER_IP      32
#define VC_HTTP_MAX_TOKENS      1024
#define VC_HTTP_MAX_TOKEN       255               /* bytes of one token */
#define VC_HTTP_MAX_STATIC      (8 * 1024 * 1024) /* bytes of one file */
#define VC_HTTP_PING_MS         15000

/*
 * Start serving on listen ("127.0.0.1:8080", "0.0.0.0:8080",
 * "[::1]:8080"; numeric addresses only), in threads of its own.
 * tokens_file: one token per line, '#' comments; NULL for none, and then
 * only a loopback address is accepted. static_dir: the dashboard's folder
 * (index.html, app.js, i18n.js, style.css), NULL to serve no static file.
 * store (the events) and view (the agents and the per-minute counts,
 * from Redis) are borrowed and must outlive the server. Returns an owned
 * handle
 * (stop with vc_http_stop()), or NULL with the reason in err.
 */
struct vc_http *vc_http_start(const char *listen, const char *tokens_file,
			      const char *static_dir, struct vc_store *store,
			      struct vc_view *view, char *err, size_t errlen);

/* Ends open streams, stops the server and frees it; accepts NULL. */
void vc_http_stop(struct vc_http *h);

#endif /* VC_HTTP_H */
