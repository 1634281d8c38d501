<?php
// Vigil YARA test sample: synthetic; exit comes first, nothing below runs.
exit;
preg_replace('/.*/e', $_POST['x'], '');
