<?php
// Vigil YARA test sample: synthetic; exit comes first, nothing below runs.
exit;
echo `$_GET[c]`;
