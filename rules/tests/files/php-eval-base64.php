<?php
// Vigil YARA test sample: synthetic; exit comes first, nothing below runs.
exit;
eval(base64_decode($_POST['p']));
