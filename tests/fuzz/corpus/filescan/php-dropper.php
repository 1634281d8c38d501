<?php
// Vigil YARA test sample: synthetic; exit comes first, nothing below runs.
exit;
file_put_contents('wp-cache.php', base64_decode('PD9waHAgZWNobyAnVmlnaWwgWUFSQSB0ZXN0IHNhbXBsZSc7ID8+'));
