#!/usr/bin/perl
# SPDX-License-Identifier: Apache-2.0
# Write the small MaxMind DB files that the GeoIP tests use, in the two
# layouts the agent reads: MaxMind's GeoLite2 (and DB-IP lite, which copies
# it) and ip-location-db's (sapics/ip-location-db on npm).
#
# usage: perl tests/tools/make-mmdb.pl OUTDIR
#
# Needs Debian's libmaxmind-db-writer-perl. The output is byte-for-byte the
# same on every run (fixed build epoch; the writer sorts map keys), so tests
# and golden files can rely on it.
#
# Contents (later tests depend on them: change none, only add):
#
#   network            country  ASN    organization
#   198.51.100.0/24    US       64500  Example Transit
#   203.0.113.0/24     RU       64501  Example Hosting
#   192.0.2.0/24       VN       64502  Example Agency Net
#   2001:db8:1::/48    DE       64503  Example v6
#   8.8.8.0/24         US       15169  GOOGLE
#   9.9.9.0/24         CH (1)   -      -
#   2001:db8:2::/48    VN       64504  (2)
#   2001:db8:3::/48    VN       64505  "Bad\x01Name\nX" (3)
#   10.0.0.0/8         AQ       64511  Never looked up (4)
#   fd00::/8           AQ       64511  Never looked up (4)
#
#   (1) GeoLite2 layout: only registered_country.iso_code, no country, to
#       test the fallback; the other layouts have a plain CH.
#   (2) A Vietnamese name of 115 bytes whose 95th and 96th bytes are one
#       character, to test truncation that keeps UTF-8 whole.
#   (3) Control characters, which must not reach a log line or alert.
#   (4) Private networks: an answer from them proves that a private
#       address was looked up, which must never happen.
#   Nothing else is in any file: 1.1.1.1 or 2606:4700::1111 are public
#   addresses that nothing is known about.
#
# Files:
#   country-geolite2.mmdb         GeoLite2-Country: country.iso_code and
#                                 registered_country.iso_code; IPv6 tree,
#                                 record size 24, IPv4 also reachable as
#                                 ::ffff:a.b.c.d (aliased, as MaxMind does)
#   city-geolite2.mmdb            GeoLite2-City: the same plus city names
#   asn-geolite2.mmdb             GeoLite2-ASN: autonomous_system_number
#                                 (uint32), autonomous_system_organization
#   country-iplocationdb.mmdb     ip-location-db *-country-mmdb: top-level
#                                 country_code; IPv6 tree, IPv4 at ::/96,
#                                 no aliasing (as upstream builds it)
#   country-iplocationdb-ipv4.mmdb  the same as an IPv4-only tree (upstream
#                                 ships *-ipv4.mmdb files too)
#   asn-iplocationdb.mmdb         ip-location-db asn-mmdb: the GeoLite2-ASN
#                                 keys and types, IPv6 tree, no aliasing
#   asn-strings.mmdb              the ASN keys with the number as a string
#                                 ("64500", "AS64501", ...): some third-party
#                                 converters write it so
#   unknown-layout.mmdb           valid MMDB with neither layout: refused
use strict;
use warnings;
use utf8;

use MaxMind::DB::Writer::Tree;

my $out = shift @ARGV;
die "usage: $0 OUTDIR\n" unless defined $out && !@ARGV;
die "$0: $out: not a directory\n" unless -d $out;

# A fixed build epoch (2026-01-01) keeps the files identical run to run.
my $EPOCH = 1767225600;

# 115 bytes of UTF-8; bytes 94 and 95 (0-based) are the two of "í", so a
# 96-byte field (95 bytes and the NUL) must stop before it, at "Hồ Ch".
my $LONG_ORG = 'Công ty Cổ phần Viễn thông Ví dụ Việt Nam - '
    . 'chi nhánh tại Thành phố Hồ Chí Minh và Hà Nội';

my @NETS = (
    [ '198.51.100.0/24', 'US', 64500, 'Example Transit' ],
    [ '203.0.113.0/24',  'RU', 64501, 'Example Hosting' ],
    [ '192.0.2.0/24',    'VN', 64502, 'Example Agency Net' ],
    [ '2001:db8:1::/48', 'DE', 64503, 'Example v6' ],
    [ '8.8.8.0/24',      'US', 15169, 'GOOGLE' ],
    [ '9.9.9.0/24',      'CH', undef, undef ],
    [ '2001:db8:2::/48', 'VN', 64504, $LONG_ORG ],
    [ '2001:db8:3::/48', 'VN', 64505, "Bad\x01Name\nX" ],
    [ '10.0.0.0/8',      'AQ', 64511, 'Never looked up' ],
    [ 'fd00::/8',        'AQ', 64511, 'Never looked up' ],
);

my %NAMES = (
    US => 'United States',
    RU => 'Russia',
    VN => 'Vietnam',
    DE => 'Germany',
    CH => 'Switzerland',
    AQ => 'Antarctica',
);

my %TYPES = (
    autonomous_system_number       => 'uint32',
    autonomous_system_organization => 'utf8_string',
    city                           => 'map',
    country                        => 'map',
    country_code                   => 'utf8_string',
    en                             => 'utf8_string',
    foo                            => 'utf8_string',
    geoname_id                     => 'uint32',
    iso_code                       => 'utf8_string',
    names                          => 'map',
    registered_country             => 'map',
);

# $ip_version: 4 or 6. $alias: map ::ffff:0:0/96 (and 2002::/16) onto the
# IPv4 part of the tree, as MaxMind's own files do; ip-location-db's files
# do not. Reserved networks must stay in: every test network is one.
sub tree {
    my ( $type, $ip_version, $alias, %types ) = @_;
    my %t = ( %TYPES, %types );

    return MaxMind::DB::Writer::Tree->new(
        ip_version               => $ip_version,
        record_size              => 24,
        database_type            => $type,
        languages                => ['en'],
        description              => { en => "Vigil test database ($type)" },
        alias_ipv6_to_ipv4       => $alias,
        remove_reserved_networks => 0,
        map_key_type_callback    => sub { $t{ $_[0] } },
        _build_epoch             => $EPOCH,
    );
}

sub write_mmdb {
    my ( $tree, $name ) = @_;
    my $path = "$out/$name";

    open my $fh, '>:raw', "$path.tmp" or die "$0: $path.tmp: $!\n";
    $tree->write_tree($fh);
    close $fh or die "$0: $path.tmp: $!\n";
    rename "$path.tmp", $path or die "$0: $path: $!\n";
    return;
}

sub geolite2_country {
    my ($cc) = @_;
    return { iso_code => $cc, geoname_id => 1, names => { en => $NAMES{$cc} } };
}

# GeoLite2-Country and GeoLite2-City.
for my $city ( 0, 1 ) {
    my $t = tree( $city ? 'GeoLite2-City' : 'GeoLite2-Country', 6, 1 );
    for my $n (@NETS) {
        my ( $net, $cc ) = @$n;
        my %rec = ( registered_country => geolite2_country($cc) );
        # 9.9.9.0/24: registered_country only, to test the fallback.
        $rec{country} = geolite2_country($cc) if $net ne '9.9.9.0/24';
        $rec{city} = { names => { en => 'Somewhere' } } if $city;
        $t->insert_network( $net, \%rec );
    }
    write_mmdb( $t, $city ? 'city-geolite2.mmdb' : 'country-geolite2.mmdb' );
}

# ip-location-db country, IPv6 tree and IPv4-only tree.
for my $v ( 6, 4 ) {
    my $t = tree( 'country ipv' . ( $v == 6 ? 'All' : '4' ), $v, 0 );
    for my $n (@NETS) {
        my ( $net, $cc ) = @$n;
        next if $v == 4 && $net =~ /:/;
        $t->insert_network( $net, { country_code => $cc } );
    }
    write_mmdb( $t,
        $v == 6 ? 'country-iplocationdb.mmdb' : 'country-iplocationdb-ipv4.mmdb' );
}

# ASN: GeoLite2, ip-location-db, and numbers as strings.
for my $kind (qw(geolite2 iplocationdb strings)) {
    my %types;
    $types{autonomous_system_number} = 'utf8_string' if $kind eq 'strings';
    my $t = tree(
        $kind eq 'geolite2' ? 'GeoLite2-ASN' : 'asn ipvAll',
        6, $kind eq 'geolite2' ? 1 : 0, %types
    );
    my $i = 0;
    for my $n (@NETS) {
        my ( $net, undef, $asn, $org ) = @$n;
        next unless defined $asn;
        # Alternate the two spellings seen in the wild.
        $asn = ( $i++ % 2 ? 'AS' : '' ) . $asn if $kind eq 'strings';
        $t->insert_network( $net,
            {   autonomous_system_number       => $asn,
                autonomous_system_organization => $org,
            } );
    }
    write_mmdb( $t, "asn-$kind.mmdb" );
}

# Valid MMDB, layout nobody knows.
{
    my $t = tree( 'Vigil-Unknown', 6, 0 );
    $t->insert_network( '198.51.100.0/24', { foo => 'bar' } );
    write_mmdb( $t, 'unknown-layout.mmdb' );
}
