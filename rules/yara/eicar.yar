// SPDX-License-Identifier: Apache-2.0
//
// The EICAR anti-virus test file: 68 printable characters at the start of
// the file, optionally followed by white space (space, tab, LF, CR,
// Ctrl-Z) up to 128 bytes in all. Use it to check that file scanning and
// alerting work end to end.
//
// The test string is written here in two parts, checked at their fixed
// offsets (0 and 27), so that this rule file is not itself the test
// string and does not set off scanners on a checkout.

rule Vigil_EICAR_Test_File : test eicar
{
    meta:
        description = "The EICAR anti-virus test file (harmless): file scanning and alerting work."
        severity = "info"
        mitre = ""
        author = "Vigil"
        date = "2026-12-01"
        sid = 3000701
        category = "test-file"

    strings:
        $head = "X5O!P%@AP[4\\PZX54(P^)7CC)7}"
        $tail = "$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"

    condition:
        filesize >= 68 and filesize <= 128 and
        $head at 0 and $tail at 27 and
        (
            filesize == 68 or
            for all i in (68..filesize - 1) : (
                uint8(i) == 0x20 or uint8(i) == 0x09 or uint8(i) == 0x0A or
                uint8(i) == 0x0D or uint8(i) == 0x1A
            )
        )
}
