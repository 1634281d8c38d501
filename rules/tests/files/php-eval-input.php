<?php
// Vigil YARA test sample: synthetic; exit comes first, nothing below runs.
exit;
eval(file_get_contents('php://input'));
