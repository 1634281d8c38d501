// SPDX-License-Identifier: Apache-2.0
//
// PowerShell droppers in scripts, batch files, HTA and VBScript files,
// shortcuts and documents: encoded commands, download cradles, decoded
// code passed to Invoke-Expression, and hidden, policy-bypassing starts.
//
// PowerShell accepts any unambiguous prefix of a parameter name
// (-enc, -EncodedCommand, -w, -WindowStyle, -ep, -ExecutionPolicy) and
// either "-" or "/" before it; the patterns below allow for that.

rule Vigil_PowerShell_Encoded_Command : powershell
{
    meta:
        description = "PowerShell started with -EncodedCommand (or a prefix such as -enc or -e) and a long base64 argument, which hides the command from a reader."
        severity = "high"
        mitre = "T1059.001, T1027.010"
        author = "Vigil"
        date = "2026-12-01"
        sid = 3000501
        category = "malware-delivery"

    strings:
        $enc = /(powershell|pwsh)(\.exe)?['"]?([ \t][^\r\n]{0,200})?[ \t]['"]?[-\/]e(c|n|nc|nco|ncod|ncode|ncoded|ncodedc|ncodedco|ncodedcom|ncodedcomm|ncodedcomma|ncodedcomman|ncodedcommand)?[ \t]{1,8}['"]?[A-Za-z0-9+\/]{100}/ nocase

    condition:
        filesize < 8MB and $enc
}

rule Vigil_PowerShell_Download_Cradle : powershell downloader
{
    meta:
        description = "PowerShell download cradle: code fetched with Net.WebClient, Invoke-WebRequest or Invoke-RestMethod and run at once with Invoke-Expression (IEX), from a plain-HTTP or numeric address, with stealth options, or as a small script."
        severity = "high"
        mitre = "T1059.001, T1105"
        author = "Vigil"
        date = "2026-12-01"
        sid = 3000502
        category = "malware-delivery"

    strings:
        // IEX (New-Object Net.WebClient).DownloadString('http://...')
        $cradle1 = /(iex|invoke-expression)\s{0,8}\(?\s{0,8}\(?\s{0,8}new-object\s{1,8}(-typename\s{1,8})?['"]?(system\.)?net\.webclient['"]?\s{0,8}\)\s{0,8}\.\s{0,8}download(string|data)\s{0,8}\(/ nocase
        // (New-Object Net.WebClient).DownloadString('http://...') | IEX
        $cradle2 = /net\.webclient['"]?\s{0,8}\)\s{0,8}\.\s{0,8}download(string|data)\s{0,8}\([^)\r\n]{1,300}\)\s{0,8}\|\s{0,8}(iex|invoke-expression)\b/ nocase
        // IWR http://... | IEX, Invoke-RestMethod http://... | IEX
        $cradle3 = /\b(iwr|irm|invoke-webrequest|invoke-restmethod)\s[^|\r\n]{1,300}\|\s{0,8}(iex|invoke-expression)\b/ nocase
        // IEX (IWR http://...), IEX (irm http://...).Content
        $cradle4 = /\b(iex|invoke-expression)\s{0,8}\(\s{0,8}(iwr|irm|invoke-webrequest|invoke-restmethod)\s/ nocase

        // where the code comes from: plain HTTP or a numeric IPv4 address
        $from1 = /download(string|data)\s{0,8}\(\s{0,8}['"]http:\/\// nocase
        $from2 = /download(string|data)\s{0,8}\(\s{0,8}['"]https?:\/\/[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}[:\/'"]/ nocase
        $from3 = /\b(iwr|irm|invoke-webrequest|invoke-restmethod)\s{1,8}(-uri\s{1,8})?['"]?(http:\/\/|https?:\/\/[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}[:\/'"\s])/ nocase
        // how PowerShell was started: no profile, hidden, non-interactive, policy bypass
        $stealth = /(powershell|pwsh)(\.exe)?['"]?([ \t][^\r\n]{0,200})?[ \t]['"]?[-\/](nop|noprofile|noni|noninteractive|w[ \t]{1,4}['"]?h|win[ \t]{1,4}['"]?h|windowstyle[ \t]{1,4}['"]?h|ep[ \t]{1,4}['"]?bypass|exec[ \t]{1,4}['"]?bypass|executionpolicy[ \t]{1,4}['"]?bypass)/ nocase

    condition:
        filesize < 8MB and any of ($cradle*) and
        // an install command quoted in documentation fetches a named
        // HTTPS host from a normal shell and sits in a larger file
        (any of ($from*) or $stealth or filesize < 2KB)
}

rule Vigil_PowerShell_Base64_Invoke : powershell obfuscation
{
    meta:
        description = "PowerShell that decodes base64 with FromBase64String and runs the result with Invoke-Expression, IEX or [ScriptBlock]::Create."
        severity = "high"
        mitre = "T1059.001, T1027, T1140"
        author = "Vigil"
        date = "2026-12-01"
        sid = 3000503
        category = "malware-delivery"

    strings:
        $b64 = /\[\s{0,4}(system\.)?convert\s{0,4}\]\s{0,4}::\s{0,4}frombase64string\s{0,4}\(/ nocase
        $run1 = "Invoke-Expression" nocase
        $run2 = /[\s(;|&{]iex[\s(;$'"]/ nocase
        $run3 = /\[\s{0,4}scriptblock\s{0,4}\]\s{0,4}::\s{0,4}create\s{0,4}\(/ nocase

    condition:
        filesize < 8MB and $b64 and any of ($run*)
}

rule Vigil_PowerShell_Hidden_Bypass : powershell
{
    meta:
        description = "PowerShell started with a hidden window and the execution policy set to Bypass or Unrestricted, the usual start of a silent dropper."
        severity = "medium"
        mitre = "T1059.001, T1564.003"
        author = "Vigil"
        date = "2026-12-01"
        sid = 3000504
        category = "malware-delivery"

    strings:
        // -w hidden, -win hid, /WindowStyle Hidden, -w 1
        $hidden = /(powershell|pwsh)(\.exe)?['"]?([ \t][^\r\n]{0,200})?[ \t]['"]?[-\/]w(i|in|ind|indo|indow|indows|indowst|indowsty|indowstyl|indowstyle)?[ \t]{1,8}['"]?(h|hi|hid|hidd|hidde|hidden|1)\b/ nocase
        // -ep bypass, -exec bypass, -ExecutionPolicy Unrestricted
        $bypass = /(powershell|pwsh)(\.exe)?['"]?([ \t][^\r\n]{0,200})?[ \t]['"]?[-\/](ep|ex|exe|exec|execu|execut|executi|executio|execution|executionp|executionpo|executionpol|executionpoli|executionpolic|executionpolicy)[ \t]{1,8}['"]?(bypass|unrestricted)/ nocase

    condition:
        filesize < 8MB and $hidden and $bypass
}
