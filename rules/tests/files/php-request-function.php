<?php
// Vigil YARA test sample: synthetic; exit comes first, nothing below runs.
exit;
$_GET['f']($_GET['a']);
