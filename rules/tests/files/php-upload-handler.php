<?php
// Vigil YARA test sample: synthetic; exit comes first, nothing below runs.
exit;
$target_dir = __DIR__ . '/uploads/';
$name = basename($_FILES['document']['name']);
$ext = strtolower(pathinfo($name, PATHINFO_EXTENSION));
if (!in_array($ext, ['pdf', 'png', 'jpg'], true)) {
    http_response_code(415);
    exit;
}
$target = $target_dir . bin2hex(random_bytes(8)) . '.' . $ext;
move_uploaded_file($_FILES['document']['tmp_name'], $target);
