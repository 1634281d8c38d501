// SPDX-License-Identifier: Apache-2.0
//
// ASP, ASP.NET and JSP webshells: server pages that evaluate request data,
// start processes with it, or load code that the request carries.
//
// Request data: Request("x"), Request.Form / QueryString / Item / Params /
// Cookies / Headers / ServerVariables (ASP, ASP.NET) and
// request.getParameter / getHeader / getQueryString / getInputStream /
// getReader (JSP). In the eval and WScript.Shell rules the field name must be a quoted
// string (Request("cmd"), Request.Form["c"]), which keeps English prose
// such as "execute request (see below)" from matching.

rule Vigil_ASP_Eval_Request : webshell asp
{
    meta:
        description = "ASP or ASP.NET page that evaluates request data as code: eval, Execute or ExecuteGlobal of a Request field."
        severity = "critical"
        mitre = "T1505.003, T1059.005"
        author = "Vigil"
        date = "2026-12-01"
        sid = 3000201
        category = "webshell"

    strings:
        // eval(Request("x")), Execute Request.Form("x"),
        // eval(Request.Item["x"], "unsafe")  (JScript.NET)
        $eval = /[^a-zA-Z0-9_.](eval|execute|executeglobal)(\s{1,8}|\s{0,8}\(\s{0,8})(\(\s{0,4})?request\s{0,4}(\.\s{0,4}(form|querystring|item|params|cookies|servervariables)\s{0,4})?[(\[]\s{0,4}['"]/ nocase

    condition:
        filesize < 2MB and $eval
}

rule Vigil_ASPX_Process_Start_Request : webshell aspx
{
    meta:
        description = "ASP.NET page that starts a process (Process.Start, ProcessStartInfo) with request data, usually cmd.exe or powershell with a command from the request."
        severity = "critical"
        mitre = "T1505.003, T1059.003"
        author = "Vigil"
        date = "2026-12-01"
        sid = 3000202
        category = "webshell"

    strings:
        $page1 = "<%@"
        $page2 = /runat\s{0,4}=\s{0,4}['"]?server/ nocase

        // Process.Start(Request["c"]), Process.Start("cmd.exe", "/c " + Request.Form["c"])
        $direct = /Process\s{0,4}\.\s{0,4}Start\s{0,4}\([^;]{0,200}Request\s{0,4}(\.\s{0,4}(Form|QueryString|Item|Params|Cookies|Headers|ServerVariables)\s{0,4})?[(\[]/
        $ps1 = /Process\s{0,4}\.\s{0,4}Start\s{0,4}\(/
        $ps2 = "ProcessStartInfo"
        $req = /Request\s{0,4}(\.\s{0,4}(Form|QueryString|Item|Params|Cookies|Headers|ServerVariables)\s{0,4})?[(\[]/
        $cmd = /(cmd|powershell|pwsh)(\.exe)?['" ]/ nocase

    condition:
        filesize < 2MB and any of ($page*) and
        ($direct or (any of ($ps*) and $req and $cmd))
}

rule Vigil_ASP_WScript_Shell_Request : webshell asp
{
    meta:
        description = "ASP page that creates WScript.Shell or Shell.Application and runs a command built from request data."
        severity = "critical"
        mitre = "T1505.003, T1059.003, T1059.005"
        author = "Vigil"
        date = "2026-12-01"
        sid = 3000203
        category = "webshell"

    strings:
        $asp = /<%[@=\s]/
        $shell = /CreateObject\s{0,4}\(\s{0,4}['"](WScript\.Shell|Shell\.Application)['"]/ nocase
        $run = /\.\s{0,4}(exec|run|shellexecute)(\s{1,8}|\s{0,4}\()/ nocase
        $req = /[^a-zA-Z0-9_.]request\s{0,4}(\.\s{0,4}(form|querystring|item|params|cookies|servervariables)\s{0,4})?[(\[]\s{0,4}['"]/ nocase

    condition:
        filesize < 2MB and $asp and $shell and $run and $req
}

rule Vigil_JSP_Runtime_Exec_Request : webshell jsp
{
    meta:
        description = "JSP page that runs request data as a command with Runtime.getRuntime().exec."
        severity = "critical"
        mitre = "T1505.003, T1059"
        author = "Vigil"
        date = "2026-12-01"
        sid = 3000204
        category = "webshell"

    strings:
        $jsp1 = /<%[@!=\s]/
        $jsp2 = "<jsp:"
        // Runtime.getRuntime().exec(request.getParameter("c"))
        $direct = /getRuntime\s{0,4}\(\s{0,4}\)\s{0,4}\.\s{0,4}exec\s{0,4}\([^;]{0,200}request\s{0,4}\.\s{0,4}(getParameter|getParameterValues|getHeader|getQueryString|getInputStream|getReader)\s{0,4}\(/
        // String c = request.getParameter("c"); ... Runtime.getRuntime().exec(c)
        $exec_var = /getRuntime\s{0,4}\(\s{0,4}\)\s{0,4}\.\s{0,4}exec\s{0,4}\(\s{0,4}[a-zA-Z_][a-zA-Z0-9_]{0,40}\s{0,4}\)/
        // ... exec(new String[] {"/bin/sh", "-c", c})
        $exec = /getRuntime\s{0,4}\(\s{0,4}\)\s{0,4}\.\s{0,4}exec\s{0,4}\(/
        $shell = /['"](\/bin\/(ba)?sh|sh|bash|cmd|cmd\.exe|powershell|powershell\.exe)['"]\s{0,4},\s{0,4}['"](-c|\/c)['"]/ nocase
        $req = /request\s{0,4}\.\s{0,4}(getParameter|getParameterValues|getHeader|getQueryString|getInputStream|getReader)\s{0,4}\(/

    condition:
        filesize < 2MB and any of ($jsp*) and
        ($direct or ($req and ($exec_var or ($exec and $shell))))
}

rule Vigil_JSP_ProcessBuilder_Request : webshell jsp
{
    meta:
        description = "JSP page that starts a process with new ProcessBuilder(...) and request data."
        severity = "critical"
        mitre = "T1505.003, T1059"
        author = "Vigil"
        date = "2026-12-01"
        sid = 3000205
        category = "webshell"

    strings:
        $jsp1 = /<%[@!=\s]/
        $jsp2 = "<jsp:"
        // new ProcessBuilder("sh", "-c", request.getParameter("c"))
        $direct = /new\s{1,8}(java\.lang\.)?ProcessBuilder\s{0,4}\([^;]{0,200}request\s{0,4}\.\s{0,4}(getParameter|getParameterValues|getHeader|getQueryString|getInputStream|getReader)\s{0,4}\(/
        // new ProcessBuilder(cmd), cmd taken from the request before
        $pb_var = /new\s{1,8}(java\.lang\.)?ProcessBuilder\s{0,4}\(\s{0,4}[a-zA-Z_][a-zA-Z0-9_]{0,40}\s{0,4}\)/
        // new ProcessBuilder("/bin/sh", "-c", c)
        $pb = /new\s{1,8}(java\.lang\.)?ProcessBuilder\s{0,4}\(/
        $shell = /['"](\/bin\/(ba)?sh|sh|bash|cmd|cmd\.exe|powershell|powershell\.exe)['"]\s{0,4},\s{0,4}['"](-c|\/c)['"]/ nocase
        $req = /request\s{0,4}\.\s{0,4}(getParameter|getParameterValues|getHeader|getQueryString|getInputStream|getReader)\s{0,4}\(/

    condition:
        filesize < 2MB and any of ($jsp*) and
        ($direct or ($req and ($pb_var or ($pb and $shell))))
}

rule Vigil_JSP_Class_Loader : webshell jsp loader
{
    meta:
        description = "JSP page that defines a Java class from bytes decoded out of the request (base64 or a cipher), the loader of in-memory webshells."
        severity = "critical"
        mitre = "T1505.003, T1620, T1027"
        author = "Vigil"
        date = "2026-12-01"
        sid = 3000206
        category = "webshell"

    strings:
        $jsp1 = /<%[@!=\s]/
        $jsp2 = "<jsp:"
        $define = /\.\s{0,4}defineClass\s{0,4}\(/
        $req = /request\s{0,4}\.\s{0,4}(getParameter|getHeader|getInputStream|getReader)\s{0,4}\(/
        $dec1 = "Base64" nocase
        $dec2 = "decodeBuffer"
        $dec3 = /Cipher\s{0,4}\.\s{0,4}getInstance\s{0,4}\(/

    condition:
        filesize < 2MB and any of ($jsp*) and $define and $req and any of ($dec*)
}

rule Vigil_ASPX_Assembly_Load : webshell aspx loader
{
    meta:
        description = "ASP.NET page that loads a .NET assembly from request data (Assembly.Load of decoded or decrypted request bytes), the loader of in-memory webshells."
        severity = "critical"
        mitre = "T1505.003, T1620, T1027"
        author = "Vigil"
        date = "2026-12-01"
        sid = 3000207
        category = "webshell"

    strings:
        $page1 = "<%@"
        $page2 = /runat\s{0,4}=\s{0,4}['"]?server/ nocase
        $load = /Assembly\s{0,4}\.\s{0,4}Load\s{0,4}\(/
        $req = /Request\s{0,4}\.\s{0,4}(BinaryRead|InputStream|Form|Item|Params|Cookies|Headers)\s{0,4}[(\[.]/
        $dec1 = "FromBase64String"
        $dec2 = "CreateDecryptor"
        $dec3 = "TransformFinalBlock"

    condition:
        filesize < 2MB and any of ($page*) and $load and $req and any of ($dec*)
}
