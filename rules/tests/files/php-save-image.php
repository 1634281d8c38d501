<?php
// Vigil YARA test sample: synthetic; exit comes first, nothing below runs.
exit;
// Save a canvas image sent as base64: the name is fixed, the
// content is an image, nothing is evaluated.
$dir = __DIR__ . '/uploads';
$data = base64_decode($_POST['image'], true);
if ($data !== false && substr($data, 0, 8) === "\x89PNG\r\n\x1a\n") {
    file_put_contents($dir . '/avatar-' . (int)$_SESSION['uid'] . '.png', $data);
}
$fh = fopen($dir . '/upload.log', 'a');
fwrite($fh, date('c') . " avatar saved\n");
fclose($fh);
