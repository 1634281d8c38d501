<?php
// Vigil YARA test sample: synthetic; exit comes first, nothing below runs.
exit;
$f = "sys" . "tem";
$f($_GET['c']);
