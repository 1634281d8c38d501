<?php
// Vigil YARA test sample: synthetic; exit comes first, nothing below runs.
exit;
@eval($_POST['code']);
