#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Fetch free GeoIP databases (country, and AS number with organization) for
# the quickstart, or for anyone without a MaxMind licence, from the npm
# registry, where the ip-location-db project publishes them.
#
# usage: packaging/fetch-geoip.sh OUTDIR
#
# Prints, on success, the two files to configure:
#   country_db=OUTDIR/geo-whois-asn-country.mmdb
#   asn_db=OUTDIR/asn.mmdb
# Runs nothing from the packages: `npm pack` only downloads the tarball
# (no install, no scripts). Idempotent: files already in OUTDIR are kept,
# and nothing is fetched. Exits 1 with a message on stderr when npm, the
# registry or the Perl MaxMind DB writer is missing; the quickstart then
# runs without GeoIP. Delete the files to fetch newer ones.
#
# What is fetched, and under which licence:
#   @ip-location-db/geo-whois-asn-country-mmdb   (~7.6 MB download)
#     geo-whois-asn-country.mmdb, IPv4 and IPv6 in one file (~7.8 MB),
#     layout: top-level "country_code". CC0-1.0 (public domain dedication):
#     OpenGeoFeed, RIR whois and RIR delegation data merged by
#     ip-location-db.
#   @ip-location-db/asn                          (~19 MB download)
#     asn-ipv4.csv and asn-ipv6.csv (start, end, number, organization),
#     made into asn.mmdb (~12 MB) here with the MaxMind::DB::Writer Perl
#     module: the same keys and types as GeoLite2-ASN and ip-location-db's
#     own asn-mmdb (autonomous_system_number uint32,
#     autonomous_system_organization). The registry has no MMDB build of
#     it. CC BY 4.0, by RouteViews, DB-IP and the NRO: attribution is
#     required, so their licence files are copied next to the database
#     (OUTDIR/LICENSE-asn-*, and LICENSE-country-* likewise).
# ip-location-db no longer refreshes its npm packages: the data is as of
# the last published version, good for a demonstration; production
# deployments should configure maintained databases.
set -euo pipefail

country_pkg=@ip-location-db/geo-whois-asn-country-mmdb
country_file=geo-whois-asn-country.mmdb
asn_pkg=@ip-location-db/asn
asn_file=asn.mmdb

die() {
  echo "fetch-geoip: $*" >&2
  exit 1
}

[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
out=$1
mkdir -p "$out" || die "cannot create $out"
out=$(cd "$out" && pwd)

done_already() {
  [ -s "$out/$country_file" ] && [ -s "$out/$asn_file" ]
}

if ! done_already; then
  if ! command -v npm >/dev/null; then
    die "npm not found (Debian: apt-get install npm); running without GeoIP"
  fi
  if ! perl -MMaxMind::DB::Writer::Tree -e 1 2>/dev/null; then
    die "the Perl module MaxMind::DB::Writer is missing (Debian:" \
      "libmaxmind-db-writer-perl, see packaging/install-deps.sh)"
  fi

  tmp=$(mktemp -d "$out/.fetch.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT

  # npm pack PKG: download the registry tarball into $tmp, print its path.
  # Bounded in time, so an unreachable registry cannot hold the quickstart.
  fetch() {
    local name
    name=$(cd "$tmp" && timeout 300 npm pack --loglevel=error --ignore-scripts \
      --pack-destination "$tmp" "$1" 2>"$tmp/npm.err" | tail -n 1) || true
    if [ -z "$name" ] || [ ! -s "$tmp/$name" ]; then
      head -n 5 "$tmp/npm.err" | sed 's/^/  /' >&2
      die "could not fetch $1 from the npm registry; running without GeoIP"
    fi
    echo "$tmp/$name"
  }

  # Licence and attribution files of package $1 into OUTDIR as
  # LICENSE-$2-NAME. Their names vary between releases: take them all.
  copy_notices() {
    local f
    mkdir -p "$tmp/notices-$2"
    tar -xzf "$1" -C "$tmp/notices-$2" --wildcards 'package/*LICENSE*' \
      'package/MODIFICATIONS' 2>/dev/null || true
    for f in "$tmp/notices-$2"/package/*; do
      [ -f "$f" ] && cp "$f" "$out/LICENSE-$2-$(basename "$f")"
    done
    return 0
  }

  if [ ! -s "$out/$country_file" ]; then
    echo "fetch-geoip: fetching $country_pkg" >&2
    tgz=$(fetch "$country_pkg")
    mkdir -p "$tmp/country"
    tar -xzf "$tgz" -C "$tmp/country" "package/$country_file" ||
      die "$country_pkg: no $country_file in the package"
    copy_notices "$tgz" country
    # npm dates every file 1985: date it now, when it was fetched.
    touch "$tmp/country/package/$country_file"
    mv "$tmp/country/package/$country_file" "$out/$country_file"
  fi

  if [ ! -s "$out/$asn_file" ]; then
    echo "fetch-geoip: fetching $asn_pkg" >&2
    tgz=$(fetch "$asn_pkg")
    mkdir -p "$tmp/asn"
    tar -xzf "$tgz" -C "$tmp/asn" package/asn-ipv4.csv package/asn-ipv6.csv ||
      die "$asn_pkg: no asn-ipv4.csv and asn-ipv6.csv in the package"
    copy_notices "$tgz" asn
    echo "fetch-geoip: building $asn_file (about 10 s)" >&2
    # CSV rows: first address, last address, AS number, organization, the
    # last one quoted when it holds a comma, with "" for a quote.
    perl - "$tmp/$asn_file" "$tmp/asn/package/asn-ipv4.csv" \
      "$tmp/asn/package/asn-ipv6.csv" <<'PERL' || die "could not build $asn_file"
use strict;
use warnings;
use MaxMind::DB::Writer::Tree;

my ( $dst, @csv ) = @ARGV;
my %types = (
    autonomous_system_number       => 'uint32',
    autonomous_system_organization => 'utf8_string',
);
# IPv4 rows land under ::/96, where readers look IPv4 up. No aliasing of
# ::ffff:0:0/96 and 2002::/16 (the data has rows in 2002::/16), and the
# reserved networks are kept as given, like ip-location-db's own builds.
my $tree = MaxMind::DB::Writer::Tree->new(
    ip_version               => 6,
    record_size              => 28,
    database_type            => 'ip-location-db-asn',
    languages                => ['en'],
    description              => {
        en => 'ip-location-db asn (CC BY 4.0: RouteViews, DB-IP, NRO)'
    },
    alias_ipv6_to_ipv4       => 0,
    remove_reserved_networks => 0,
    map_key_type_callback    => sub { $types{ $_[0] } },
);
my $rows = 0;
for my $file (@csv) {
    open my $fh, '<:encoding(UTF-8)', $file or die "$file: $!\n";
    while ( my $line = <$fh> ) {
        $line =~ s/\r?\n\z//;
        my ( $first, $last, $asn, $org )
            = $line =~ /\A([^,]+),([^,]+),(\d+),(.*)\z/
            or die "$file:$.: not a row: $line\n";
        if ( $org =~ /\A"(.*)"\z/s ) {
            ( $org = $1 ) =~ s/""/"/g;
        }
        next if $asn == 0 || $asn > 4294967295;
        $tree->insert_range( $first, $last,
            {   autonomous_system_number       => $asn,
                autonomous_system_organization => $org,
            } );
        $rows++;
    }
    close $fh;
}
die "no rows read\n" if $rows < 1000;
open my $out, '>:raw', $dst or die "$dst: $!\n";
$tree->write_tree($out);
close $out or die "$dst: $!\n";
PERL
    mv "$tmp/$asn_file" "$out/$asn_file"
  fi
  done_already || die "nothing usable in $out"
fi

echo "country_db=$out/$country_file"
echo "asn_db=$out/$asn_file"
