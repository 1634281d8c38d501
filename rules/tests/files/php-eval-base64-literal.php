<?php
// Vigil YARA test sample: synthetic; exit comes first, nothing below runs.
exit;
eval(base64_decode('ZWNobyAnVmlnaWwgWUFSQSB0ZXN0IHNhbXBsZTogdGhpcyBsaW5lIGlzIHRoZSB3aG9sZSBwYXlsb2FkIGFuZCBvbmx5IHByaW50cyBpdHNlbGYuJzsK'));
