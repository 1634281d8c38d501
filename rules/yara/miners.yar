// SPDX-License-Identifier: Apache-2.0
//
// Cryptocurrency miner configurations and start-up scripts left on a
// server: XMRig-style JSON configuration files, and command lines or
// scripts that point a miner at a stratum pool with a wallet address as
// the user name.
//
// Wallet shapes recognised: Monero (95 base58 characters starting with 4
// or 8), Ethereum (0x and 40 hex digits) and Bitcoin (base58 starting
// with 1 or 3, or bech32 bc1...).

rule Vigil_Miner_XMRig_Config : miner
{
    meta:
        description = "XMRig-style miner configuration: a JSON \"pools\" list whose \"url\" is a stratum URL or a host on a usual pool port, with miner settings (donate-level, randomx, a mining algorithm or coin)."
        severity = "high"
        mitre = "T1496"
        author = "Vigil"
        date = "2026-12-01"
        sid = 3000601
        category = "miner"

    strings:
        $pools = /"pools"\s{0,8}:\s{0,8}\[/
        $url1 = /"url"\s{0,8}:\s{0,8}"stratum\+(tcp|ssl|tls):\/\// nocase
        $url2 = /"url"\s{0,8}:\s{0,8}"[a-zA-Z0-9.\-]{1,100}:(1111|2222|3333|4444|5555|6666|7777|8888|9999|10001|10128|14433|14444|20580)"/
        $set1 = /"donate-level"\s{0,8}:/
        $set2 = /"randomx"\s{0,8}:\s{0,8}\{/
        $set3 = /"algo"\s{0,8}:\s{0,8}"(rx\/|cn\/|cn-|argon2\/|astrobwt|kawpow|ghostrider|cryptonight|randomx)/ nocase
        $set4 = /"coin"\s{0,8}:\s{0,8}"(monero|xmr|wownero|ravencoin|zephyr)"/ nocase

    condition:
        filesize < 1MB and $pools and any of ($url*) and any of ($set*)
}

rule Vigil_Miner_Stratum_Wallet : miner
{
    meta:
        description = "Script or command line that gives a stratum+tcp://, stratum+ssl:// or stratum+tls:// pool URL and, on the same line, a wallet address as the miner's user name."
        severity = "high"
        mitre = "T1496"
        author = "Vigil"
        date = "2026-12-01"
        sid = 3000602
        category = "miner"

    strings:
        // xmrig -o stratum+tcp://pool:3333 -u 4...
        $xmr_after = /stratum\+(tcp|ssl|tls):\/\/[a-zA-Z0-9.\-]{3,100}:[0-9]{2,5}[^\r\n]{0,300}[48][0-9AB][1-9A-HJ-NP-Za-km-z]{93}/
        // xmrig -u 4... -o stratum+tcp://pool:3333
        $xmr_before = /[48][0-9AB][1-9A-HJ-NP-Za-km-z]{93}[^\r\n]{0,300}stratum\+(tcp|ssl|tls):\/\/[a-zA-Z0-9.\-]{3,100}:[0-9]{2,5}/
        $eth_after = /stratum\+(tcp|ssl|tls):\/\/[a-zA-Z0-9.\-]{3,100}:[0-9]{2,5}[^\r\n]{0,300}0x[0-9a-fA-F]{40}/ nocase
        $btc_after = /stratum\+(tcp|ssl|tls):\/\/[a-zA-Z0-9.\-]{3,100}:[0-9]{2,5}[^\r\n]{0,300}\s(-u|--user|-O)[\s=]{1,4}['"]?(bc1[a-z0-9]{25,60}|[13][1-9A-HJ-NP-Za-km-z]{25,34})/

    condition:
        filesize < 2MB and any of them
}
