// SPDX-License-Identifier: Apache-2.0
//
// Office documents with VBA macros that run when the document is opened
// and call programs or download files.
//
// OLE2 (compound file) documents: .doc, .xls, .ppt and the vbaProject.bin
// inside OOXML files. A VBA project is a storage named _VBA_PROJECT or
// _VBA_PROJECT_CUR; its directory entry names are UTF-16. The module
// source in a VBA project is compressed, but the names of procedures and
// of the functions they call are also kept uncompressed (in the compiled
// p-code and its identifier table), which is what these rules see.
//
// OOXML (.docm, .xlsm, .pptm) files are ZIP archives. YARA cannot inflate
// ZIP members, so the OOXML auto-run rule only sees a vbaProject.bin that
// is stored without compression; Vigil_Office_OOXML_Macro_Enabled reports
// every macro-enabled OOXML file, compressed or not.

rule Vigil_Office_OLE2_AutoExec_Macro : office macro ole2
{
    meta:
        description = "OLE2 Office document with a VBA macro that runs on open (AutoOpen, Document_Open, Workbook_Open, Auto_Open, ...) and calls Shell, WScript.Shell, PowerShell or another program launcher."
        severity = "high"
        mitre = "T1204.002, T1059.005, T1137"
        author = "Vigil"
        date = "2026-12-01"
        sid = 3000401
        category = "malware-delivery"

    strings:
        $vba = "_VBA_PROJECT" wide

        $auto1 = "AutoOpen" nocase
        $auto2 = "Auto_Open" nocase
        $auto3 = "Document_Open" nocase
        $auto4 = "Workbook_Open" nocase
        $auto5 = "AutoExec" nocase
        $auto6 = "Document_New" nocase
        $auto7 = "AutoNew" nocase
        $auto8 = "Workbook_Activate" nocase

        $exec1 = "Shell" fullword
        $exec2 = "ShellExecute" nocase
        $exec3 = "WinExec" nocase
        $exec4 = "powershell" nocase
        $exec5 = "URLDownloadToFile" nocase
        $exec6 = "cmd.exe" nocase
        $exec7 = "cmd /c" nocase
        $exec8 = "mshta" nocase

        $create1 = "CreateObject" nocase
        $create2 = "GetObject" nocase
        $prog1 = "WScript.Shell" nocase
        $prog2 = "Shell.Application" nocase
        $prog3 = "MSXML2.XMLHTTP" nocase
        $prog4 = "MSXML2.ServerXMLHTTP" nocase
        $prog5 = "WinHttp.WinHttpRequest" nocase
        $prog6 = "winmgmts" nocase

    condition:
        uint32(0) == 0xE011CFD0 and uint32(4) == 0xE11AB1A1 and filesize < 32MB and
        $vba and any of ($auto*) and
        (any of ($exec*) or (any of ($create*) and any of ($prog*)))
}

rule Vigil_Office_OLE2_Macro_Downloader : office macro ole2 downloader
{
    meta:
        description = "OLE2 Office document with a VBA macro that downloads a file (URLDownloadToFile, or an HTTP object together with ADODB.Stream or SaveToFile) or starts PowerShell with a download or encoded command."
        severity = "critical"
        mitre = "T1204.002, T1059.005, T1105"
        author = "Vigil"
        date = "2026-12-01"
        sid = 3000402
        category = "malware-delivery"

    strings:
        $vba = "_VBA_PROJECT" wide

        $dl = "URLDownloadToFile" nocase
        $http1 = "MSXML2.XMLHTTP" nocase
        $http2 = "MSXML2.ServerXMLHTTP" nocase
        $http3 = "WinHttp.WinHttpRequest" nocase
        $save1 = "ADODB.Stream" nocase
        $save2 = "SaveToFile" nocase
        $ps = /powershell(\.exe)?[^\x00\r\n]{0,100}(-e(nc|ncodedcommand)?\s|downloadstring|downloadfile|invoke-webrequest|iwr\s|iex)/ nocase

    condition:
        uint32(0) == 0xE011CFD0 and uint32(4) == 0xE11AB1A1 and filesize < 32MB and
        $vba and ($dl or (any of ($http*) and any of ($save*)) or $ps)
}

rule Vigil_Office_OOXML_Macro_Enabled : office macro ooxml
{
    meta:
        description = "Macro-enabled OOXML document (.docm, .xlsm, .pptm and templates): a ZIP archive with a word/, xl/ or ppt/ vbaProject.bin."
        severity = "low"
        mitre = "T1204.002, T1137"
        author = "Vigil"
        date = "2026-12-01"
        sid = 3000403
        category = "macro-document"

    strings:
        $name1 = "word/vbaProject.bin"
        $name2 = "xl/vbaProject.bin"
        $name3 = "ppt/vbaProject.bin"

    condition:
        uint32(0) == 0x04034B50 and filesize < 64MB and
        // the name must be that of a local file header (30 bytes before it)
        for any of ($name*) : ( for any i in (1..#) : ( uint32(@[i] - 30) == 0x04034B50 ) )
}

rule Vigil_Office_OOXML_VBA_AutoExec : office macro ooxml
{
    meta:
        description = "Macro-enabled OOXML document whose vbaProject.bin is stored uncompressed and holds an auto-run macro (AutoOpen, Document_Open, Workbook_Open, ...) that calls Shell, WScript.Shell, PowerShell or a downloader."
        severity = "high"
        mitre = "T1204.002, T1059.005, T1137"
        author = "Vigil"
        date = "2026-12-01"
        sid = 3000404
        category = "malware-delivery"

    strings:
        $name1 = "word/vbaProject.bin"
        $name2 = "xl/vbaProject.bin"
        $name3 = "ppt/vbaProject.bin"

        $auto1 = "AutoOpen" nocase
        $auto2 = "Auto_Open" nocase
        $auto3 = "Document_Open" nocase
        $auto4 = "Workbook_Open" nocase
        $auto5 = "AutoExec" nocase
        $auto6 = "Document_New" nocase
        $auto7 = "AutoNew" nocase
        $auto8 = "Workbook_Activate" nocase

        $exec1 = "Shell" fullword
        $exec2 = "ShellExecute" nocase
        $exec3 = "WinExec" nocase
        $exec4 = "powershell" nocase
        $exec5 = "URLDownloadToFile" nocase
        $exec6 = "cmd.exe" nocase
        $exec7 = "cmd /c" nocase
        $exec8 = "mshta" nocase

        $create1 = "CreateObject" nocase
        $create2 = "GetObject" nocase
        $prog1 = "WScript.Shell" nocase
        $prog2 = "Shell.Application" nocase
        $prog3 = "MSXML2.XMLHTTP" nocase
        $prog4 = "MSXML2.ServerXMLHTTP" nocase
        $prog5 = "WinHttp.WinHttpRequest" nocase
        $prog6 = "winmgmts" nocase

    condition:
        uint32(0) == 0x04034B50 and filesize < 64MB and
        // a local file header for vbaProject.bin, compression method 0
        // (stored), whose data starts with the OLE2 signature
        for any of ($name*) : (
            for any i in (1..#) : (
                uint32(@[i] - 30) == 0x04034B50 and uint16(@[i] - 22) == 0 and
                uint32(@[i] + uint16(@[i] - 4) + uint16(@[i] - 2)) == 0xE011CFD0
            )
        ) and
        any of ($auto*) and
        (any of ($exec*) or (any of ($create*) and any of ($prog*)))
}
