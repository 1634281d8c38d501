// SPDX-License-Identifier: Apache-2.0
//
// PHP webshells: code that runs what the HTTP request carries, decodes and
// evaluates hidden code, or writes new files from request data.
//
// Every rule needs a PHP open tag ("<?php", "<?=" or a short "<? " tag) in
// the file, so that documentation quoting PHP does not match unless it
// also contains PHP code. "Request data" below means $_GET, $_POST,
// $_REQUEST, $_COOKIE or $_SERVER (where the HTTP headers are).
//
// The character class in front of a function name, [^a-zA-Z0-9_>$:],
// keeps method calls ($pdo->exec, Foo::eval) and longer names
// (curl_exec) from matching.

rule Vigil_PHP_Eval_Request : webshell php
{
    meta:
        description = "PHP code that evaluates request data directly: eval, assert or create_function of a request field, the raw request body or a request header."
        severity = "critical"
        mitre = "T1505.003, T1059"
        author = "Vigil"
        date = "2026-12-01"
        sid = 3000101
        category = "webshell"

    strings:
        $open1 = "<?php" nocase
        $open2 = "<?="
        $open3 = /<\?[ \t\r\n]/

        // eval($_POST['x']), assert(stripslashes($_GET['x'])),
        // create_function('', $_REQUEST['x'])
        $field = /[^a-zA-Z0-9_>$:](eval|assert|create_function)\s{0,8}\(\s{0,8}(['"]{2}\s{0,4},\s{0,8})?(@\s{0,4})?((stripslashes|trim|urldecode|rawurldecode|strval)\s{0,4}\(\s{0,4}(@\s{0,4})?)?\$_(GET|POST|REQUEST|COOKIE|SERVER)\s{0,4}\[/ nocase
        // eval(file_get_contents('php://input'))
        $body = /[^a-zA-Z0-9_>$:](eval|assert)\s{0,8}\(\s{0,8}(@\s{0,4})?file_get_contents\s{0,4}\(\s{0,4}['"]php:\/\/input/ nocase
        // eval(getallheaders()['X-Code'])
        $hdr = /[^a-zA-Z0-9_>$:](eval|assert)\s{0,8}\(\s{0,8}(@\s{0,4})?(getallheaders|apache_request_headers)\s{0,4}\(/ nocase

    condition:
        filesize < 2MB and any of ($open*) and any of ($field, $body, $hdr)
}

rule Vigil_PHP_System_Request : webshell php
{
    meta:
        description = "PHP code that runs request data as an operating system command (system, passthru, shell_exec, exec, popen, proc_open, pcntl_exec or backticks)."
        severity = "critical"
        mitre = "T1505.003, T1059.004"
        author = "Vigil"
        date = "2026-12-01"
        sid = 3000102
        category = "webshell"

    strings:
        $open1 = "<?php" nocase
        $open2 = "<?="
        $open3 = /<\?[ \t\r\n]/

        // system($_GET['c']), shell_exec(base64_decode($_POST['c']))
        $call = /[^a-zA-Z0-9_>$:](system|passthru|shell_exec|exec|popen|proc_open|pcntl_exec)\s{0,8}\(\s{0,8}(@\s{0,4})?((stripslashes|trim|urldecode|rawurldecode|base64_decode|strval)\s{0,4}\(\s{0,4}(@\s{0,4})?)?\$_(GET|POST|REQUEST|COOKIE|SERVER)\s{0,4}\[/ nocase
        // `$_GET[c]` (the backtick operator is shell_exec)
        $tick = /`\s{0,8}\$_(GET|POST|REQUEST|COOKIE)\s{0,4}\[[^\]`\r\n]{1,40}\]\s{0,8}`/

    condition:
        filesize < 2MB and any of ($open*) and any of ($call, $tick)
}

rule Vigil_PHP_Eval_Base64 : webshell php
{
    meta:
        description = "PHP code that evaluates base64-decoded data: a request field or a long literal passed through base64_decode into eval or assert."
        severity = "high"
        mitre = "T1505.003, T1027, T1140"
        author = "Vigil"
        date = "2026-12-01"
        sid = 3000103
        category = "webshell"

    strings:
        $open1 = "<?php" nocase
        $open2 = "<?="
        $open3 = /<\?[ \t\r\n]/

        // eval(base64_decode($_POST['x']))
        $req = /[^a-zA-Z0-9_>$:](eval|assert)\s{0,8}\(\s{0,8}(@\s{0,4})?base64_decode\s{0,8}\(\s{0,8}(@\s{0,4})?\$_(GET|POST|REQUEST|COOKIE|SERVER)\s{0,4}\[/ nocase
        // eval(base64_decode('...at least 100 base64 characters...'))
        $lit = /[^a-zA-Z0-9_>$:](eval|assert)\s{0,8}\(\s{0,8}(@\s{0,4})?base64_decode\s{0,8}\(\s{0,8}['"][A-Za-z0-9+\/=\r\n]{100}/ nocase

    condition:
        filesize < 2MB and any of ($open*) and any of ($req, $lit)
}

rule Vigil_PHP_Eval_Decoder_Chain : webshell php obfuscation
{
    meta:
        description = "PHP code that evaluates the output of two or more nested decoders (base64_decode, gzinflate, gzuncompress, str_rot13, strrev and the like), the usual wrapping of obfuscated webshells."
        severity = "high"
        mitre = "T1505.003, T1027, T1140"
        author = "Vigil"
        date = "2026-12-01"
        sid = 3000104
        category = "webshell"

    strings:
        $open1 = "<?php" nocase
        $open2 = "<?="
        $open3 = /<\?[ \t\r\n]/

        // eval(gzinflate(base64_decode(...))), eval(str_rot13(strrev(...)))
        $nested = /[^a-zA-Z0-9_>$:](eval|assert)\s{0,8}\(\s{0,8}(@\s{0,4})?(base64_decode|gzinflate|gzuncompress|gzdecode|str_rot13|strrev|convert_uudecode|hex2bin|rawurldecode|urldecode)\s{0,8}\(\s{0,8}(@\s{0,4})?(base64_decode|gzinflate|gzuncompress|gzdecode|str_rot13|strrev|convert_uudecode|hex2bin|rawurldecode|urldecode)\s{0,8}\(/ nocase
        // $x = gzinflate(base64_decode('...200+ characters...')); ... eval($x);
        $packed = /(gzinflate|gzuncompress|gzdecode|str_rot13|strrev)\s{0,8}\(\s{0,8}(@\s{0,4})?base64_decode\s{0,8}\(\s{0,8}['"][A-Za-z0-9+\/=\r\n]{200}/ nocase
        $eval = /[^a-zA-Z0-9_>$:](eval|assert)\s{0,8}\(\s{0,8}(@\s{0,4})?\$[a-zA-Z_]/ nocase

    condition:
        filesize < 2MB and any of ($open*) and ($nested or ($packed and $eval))
}

rule Vigil_PHP_Preg_Replace_Eval : webshell php
{
    meta:
        description = "PHP preg_replace with the /e modifier (the replacement is evaluated as code) fed with request data."
        severity = "critical"
        mitre = "T1505.003, T1059"
        author = "Vigil"
        date = "2026-12-01"
        sid = 3000105
        category = "webshell"

    strings:
        $open1 = "<?php" nocase
        $open2 = "<?="
        $open3 = /<\?[ \t\r\n]/

        // preg_replace('/.*/e', $_POST['x'], '') or preg_replace("/x/e", "eval(\$_GET[c])", "x")
        $e = /preg_replace\s{0,8}\(\s{0,8}['"][\/#@|~!%][^'"\r\n]{0,200}[\/#@|~!%][imsxuADSUXJ]{0,8}e[imsxuADSUXJ]{0,8}['"]\s{0,8},[^;]{0,200}\$_(GET|POST|REQUEST|COOKIE|SERVER)\s{0,4}\[/ nocase

    condition:
        filesize < 2MB and any of ($open*) and $e
}

rule Vigil_PHP_Dropper_Write : webshell php dropper
{
    meta:
        description = "PHP code that writes a PHP file from decoded or request data, or writes a file whose name and content both come from the request."
        severity = "high"
        mitre = "T1505.003, T1105"
        author = "Vigil"
        date = "2026-12-01"
        sid = 3000106
        category = "webshell"

    strings:
        $open1 = "<?php" nocase
        $open2 = "<?="
        $open3 = /<\?[ \t\r\n]/

        // file_put_contents('x.php', base64_decode(...)),
        // fwrite(fopen('x.php', 'w'), $_POST['c'])
        $phpname = /[^a-zA-Z0-9_>$:](file_put_contents|fopen)\s{0,8}\(\s{0,8}['"][^'"\r\n]{0,100}\.(php[0-9s]?|phtml|phar|inc)['"][^;]{0,100}(base64_decode|gzinflate|gzuncompress|gzdecode|str_rot13|hex2bin|convert_uudecode|\$_(GET|POST|REQUEST|COOKIE)\s{0,4}\[)/ nocase
        // file_put_contents($_GET['f'], $_POST['c'])
        $bothreq = /[^a-zA-Z0-9_>$:]file_put_contents\s{0,8}\(\s{0,8}(@\s{0,4})?\$_(GET|POST|REQUEST|COOKIE)\s{0,4}\[[^;]{1,200}\$_(GET|POST|REQUEST|COOKIE)\s{0,4}\[/ nocase
        // any write of base64 that decodes to "<?php" (PD9w...)
        $b64php = /[^a-zA-Z0-9_>$:](file_put_contents|fwrite|fputs)\s{0,8}\([^;]{0,300}base64_decode\s{0,8}\(\s{0,8}['"]PD9w/ nocase

    condition:
        filesize < 2MB and any of ($open*) and any of ($phpname, $bothreq, $b64php)
}

rule Vigil_PHP_Upload_Arbitrary_Name : webshell php uploader
{
    meta:
        description = "PHP upload handler that saves an uploaded file under the name the client chose (no directory, no check), the core of small uploader shells."
        severity = "high"
        mitre = "T1505.003, T1105"
        author = "Vigil"
        date = "2026-12-01"
        sid = 3000107
        category = "webshell"

    strings:
        $open1 = "<?php" nocase
        $open2 = "<?="
        $open3 = /<\?[ \t\r\n]/

        // move_uploaded_file($_FILES['f']['tmp_name'], $_FILES['f']['name'])
        // copy($_FILES['f']['tmp_name'], $_POST['to'])
        $save = /[^a-zA-Z0-9_>$:](move_uploaded_file|copy)\s{0,8}\(\s{0,8}\$_FILES\s{0,4}\[[^\]\r\n]{1,40}\]\s{0,4}\[\s{0,4}['"]tmp_name['"]\s{0,4}\]\s{0,8},\s{0,8}(\$_FILES\s{0,4}\[[^\]\r\n]{1,40}\]\s{0,4}\[\s{0,4}['"]name['"]\s{0,4}\]|\$_(GET|POST|REQUEST|COOKIE)\s{0,4}\[[^\]\r\n]{1,40}\])\s{0,8}\)/ nocase

    condition:
        filesize < 2MB and any of ($open*) and $save
}

rule Vigil_PHP_Variable_Function : webshell php obfuscation
{
    meta:
        description = "PHP code that calls a function whose name is taken from the request, or calls a variable holding a name assembled to hide it (\"sys\".\"tem\", strrev, str_rot13, chr) with request data."
        severity = "critical"
        mitre = "T1505.003, T1027, T1059"
        author = "Vigil"
        date = "2026-12-01"
        sid = 3000108
        category = "webshell"

    strings:
        $open1 = "<?php" nocase
        $open2 = "<?="
        $open3 = /<\?[ \t\r\n]/

        // $_GET['f']($_GET['c'])
        $reqname = /\$_(GET|POST|REQUEST|COOKIE|SERVER)\s{0,4}\[[^\]\r\n]{1,40}\]\s{0,4}\(/
        // call_user_func($_POST['f'], ...), array_map($_GET['f'], ...)
        $reqcb1 = /[^a-zA-Z0-9_>$:](call_user_func|call_user_func_array|array_map|register_shutdown_function|register_tick_function|forward_static_call|forward_static_call_array)\s{0,8}\(\s{0,8}(@\s{0,4})?\$_(GET|POST|REQUEST|COOKIE|SERVER)\s{0,4}\[/ nocase
        // array_filter($a, $_GET['f']), usort($a, $_POST['f'])
        $reqcb2 = /[^a-zA-Z0-9_>$:](array_filter|array_walk|array_reduce|usort|uasort|uksort)\s{0,8}\([^;]{1,200},\s{0,8}(@\s{0,4})?\$_(GET|POST|REQUEST|COOKIE|SERVER)\s{0,4}\[[^\]\r\n]{1,40}\]\s{0,8}\)/ nocase

        // $f(...$_GET[...]...)
        $varcall = /\$[a-zA-Z_][a-zA-Z0-9_]{0,40}\s{0,4}\(\s{0,4}(@\s{0,4})?\$_(GET|POST|REQUEST|COOKIE|SERVER)\s{0,4}\[/
        // "sys"."tem", 'as'.'sert', "shell_"."exec"
        $split = /['"](sy|sys|syst|syste|ev|eva|as|ass|asse|asser|pas|pass|passt|passth|passthr|she|shel|shell|shell_|shell_e|shell_ex|shell_exe|exe|pop|pope|pro|proc|proc_|proc_o|proc_op|proc_ope)['"]\s{0,4}\.\s{0,4}['"][a-z_]{1,10}['"]/ nocase
        // strrev('metsys'), str_rot13('flfgrz')
        $rev = /strrev\s{0,4}\(\s{0,4}['"](metsys|urhtssap|cexe_llehs|tressa|lave|nepop|nepo_corp|cexe)['"]/ nocase
        $rot = /str_rot13\s{0,4}\(\s{0,4}['"](flfgrz|cnffgueh|furyy_rkrp|nffreg|riny|cbcra|cebp_bcra|rkrp)['"]/ nocase
        // chr(115).chr(121)... : the first two letters of system, eval, assert, passthru, shell_exec, exec
        $chr = /chr\s{0,4}\(\s{0,4}(115|101|97|112)\s{0,4}\)\s{0,4}\.\s{0,4}chr\s{0,4}\(\s{0,4}(121|118|115|97|104|120)\s{0,4}\)/ nocase

    condition:
        filesize < 2MB and any of ($open*) and
        ($reqname or $reqcb1 or $reqcb2 or ($varcall and any of ($split, $rev, $rot, $chr)))
}
