// SPDX-License-Identifier: Apache-2.0
//
// Executables and code hidden in files that a web server would serve as
// images or documents. YARA does not see the file name, so these rules
// look at the content: a file that starts like an image or a document
// (GIF, PNG, JPEG, BMP, TIFF, RTF, PDF) and also holds a Windows (PE) or
// Linux (ELF) executable header, PHP code, or PDF actions that start
// programs.
//
// An embedded PE is recognised by its two headers, not by the letters
// "MZ" alone: "PE\0\0" followed by a known machine type (i386, x86-64,
// ARM, ARM64, IA-64), and an "MZ" header 0x40 to 0x400 bytes before it
// whose e_lfanew field (offset 0x3C) points exactly at that "PE\0\0".
// An embedded ELF header must give a valid class, byte order, version
// and a file type of executable or shared object.

rule Vigil_Polyglot_Image_Embedded_PE : polyglot pe
{
    meta:
        description = "File that starts as an image or RTF document (GIF, PNG, JPEG, BMP, TIFF, RTF) and holds a Windows PE executable in its first 64 KiB."
        severity = "high"
        mitre = "T1036.008, T1027.009"
        author = "Vigil"
        date = "2026-12-01"
        sid = 3000301
        category = "malware-delivery"

    strings:
        $pe = { 50 45 00 00 ( 4C 01 | 64 86 | C4 01 | 64 AA | 00 02 ) }

    condition:
        (
            uint32(0) == 0x38464947 or                          // GIF8
            uint32(0) == 0x474E5089 or                          // \x89PNG
            (uint16(0) == 0xD8FF and uint8(2) == 0xFF) or       // JPEG SOI
            (uint16(0) == 0x4D42 and uint32(6) == 0) or         // BMP, reserved fields zero
            uint32(0) == 0x002A4949 or uint32(0) == 0x2A004D4D or // TIFF
            uint32(0) == 0x74725C7B                             // {\rt
        ) and
        for any i in (1..#pe) : (
            @pe[i] < 0x10000 and
            for any k in (0x40..0x400) : (
                uint16(@pe[i] - k) == 0x5A4D and uint32(@pe[i] - k + 0x3C) == k
            )
        )
}

rule Vigil_Polyglot_Image_Embedded_ELF : polyglot elf
{
    meta:
        description = "File that starts as an image or RTF document (GIF, PNG, JPEG, BMP, TIFF, RTF) and holds a Linux ELF executable or shared object header in its first 64 KiB."
        severity = "high"
        mitre = "T1036.008, T1027.009"
        author = "Vigil"
        date = "2026-12-01"
        sid = 3000302
        category = "malware-delivery"

    strings:
        // magic, class 32/64, byte order LE/BE, version 1
        $elf = { 7F 45 4C 46 ( 01 | 02 ) ( 01 | 02 ) 01 }

    condition:
        (
            uint32(0) == 0x38464947 or
            uint32(0) == 0x474E5089 or
            (uint16(0) == 0xD8FF and uint8(2) == 0xFF) or
            (uint16(0) == 0x4D42 and uint32(6) == 0) or
            uint32(0) == 0x002A4949 or uint32(0) == 0x2A004D4D or
            uint32(0) == 0x74725C7B
        ) and
        for any i in (1..#elf) : (
            @elf[i] > 0 and @elf[i] < 0x10000 and
            (
                (uint8(@elf[i] + 5) == 1 and (uint16(@elf[i] + 16) == 2 or uint16(@elf[i] + 16) == 3)) or
                (uint8(@elf[i] + 5) == 2 and (uint16be(@elf[i] + 16) == 2 or uint16be(@elf[i] + 16) == 3))
            )
        )
}

rule Vigil_Polyglot_Image_PHP : polyglot webshell php
{
    meta:
        description = "GIF, PNG, JPEG or BMP image that contains PHP code calling dangerous functions or reading request data: an image-shaped webshell for an upload form or a file inclusion."
        severity = "critical"
        mitre = "T1505.003, T1036.008, T1027.003"
        author = "Vigil"
        date = "2026-12-01"
        sid = 3000303
        category = "webshell"

    strings:
        $open1 = "<?php" nocase
        $open2 = "<?="
        $func = /[^a-zA-Z0-9_>$:](eval|assert|system|passthru|shell_exec|exec|popen|proc_open|pcntl_exec|create_function|base64_decode|gzinflate|gzuncompress|str_rot13|file_put_contents|move_uploaded_file|fsockopen)\s{0,8}\(/ nocase
        $req = /\$_(GET|POST|REQUEST|COOKIE|FILES|SERVER)\s{0,4}\[/

    condition:
        filesize < 16MB and
        (
            uint32(0) == 0x38464947 or
            uint32(0) == 0x474E5089 or
            (uint16(0) == 0xD8FF and uint8(2) == 0xFF) or
            (uint16(0) == 0x4D42 and uint32(6) == 0)
        ) and
        any of ($open*) and ($func or $req)
}

rule Vigil_PDF_Embedded_Executable : pdf pe elf
{
    meta:
        description = "PDF that carries an uncompressed Windows PE or Linux ELF executable, or an attached file with an executable or script extension (.exe, .scr, .dll, .js, .vbs, .ps1, .hta, ...)."
        severity = "high"
        mitre = "T1204.002, T1027.009"
        author = "Vigil"
        date = "2026-12-01"
        sid = 3000304
        category = "malware-delivery"

    strings:
        $pe = { 50 45 00 00 ( 4C 01 | 64 86 | C4 01 | 64 AA | 00 02 ) }
        $elf = { 7F 45 4C 46 ( 01 | 02 ) ( 01 | 02 ) 01 }
        $emb = "/EmbeddedFile"
        $name = /\/(UF|F)\s{0,4}\([^)\r\n]{1,200}\.(exe|scr|dll|com|pif|cpl|bat|cmd|ps1|vbs|vbe|js|jse|wsf|hta|jar|msi|lnk|sh|elf)\)/ nocase

    condition:
        uint32(0) == 0x46445025 and filesize < 64MB and
        (
            ($emb and $name) or
            for any i in (1..#pe) : (
                for any k in (0x40..0x400) : (
                    uint16(@pe[i] - k) == 0x5A4D and uint32(@pe[i] - k + 0x3C) == k
                )
            ) or
            for any i in (1..#elf) : (
                (uint8(@elf[i] + 5) == 1 and (uint16(@elf[i] + 16) == 2 or uint16(@elf[i] + 16) == 3)) or
                (uint8(@elf[i] + 5) == 2 and (uint16be(@elf[i] + 16) == 2 or uint16be(@elf[i] + 16) == 3))
            )
        )
}

rule Vigil_PDF_JavaScript_Launch : pdf
{
    meta:
        description = "PDF with a /Launch action (opens a program or file) together with JavaScript or a command interpreter as the target."
        severity = "high"
        mitre = "T1204.002, T1059.007"
        author = "Vigil"
        date = "2026-12-01"
        sid = 3000305
        category = "malware-delivery"

    strings:
        $launch = /\/S\s{0,4}\/Launch[\s\/>]/
        $js1 = "/JavaScript"
        $js2 = /\/JS\s{0,4}[(<]/
        $cmd = /\/F\s{0,4}\(\s{0,4}[^)\r\n]{0,100}(cmd|powershell|pwsh|mshta|wscript|cscript|rundll32|regsvr32|certutil|bitsadmin)(\.exe)?[\s)]/ nocase

    condition:
        uint32(0) == 0x46445025 and filesize < 64MB and $launch and any of ($js*, $cmd)
}
