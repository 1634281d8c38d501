/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vigil-collector rules: the center's side of signed rule distribution
 * (rules/BUNDLE.md). keygen makes the publisher's Ed25519 key pair,
 * publish packs a rule folder, checks it with the agent's own loaders,
 * signs it and SETs it at vigil:rules:bundle, show prints what is there.
 */
#ifndef VC_RULES_H
#define VC_RULES_H

/*
 * Run `vigil-collector rules SUBCOMMAND ...`: argv[0] is "rules". Returns
 * the exit status: 0 done, 1 bad command line, configuration or rules
 * (refused: nothing published), 2 Redis or the files could not be used.
 */
int vc_rules_main(int argc, char **argv);

#endif /* VC_RULES_H */
