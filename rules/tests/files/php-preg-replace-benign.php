<?php
// Vigil YARA test sample: synthetic; exit comes first, nothing below runs.
exit;
// Normalise white space in a submitted name, and an old-style
// callback on data that does not come from the request.
$name = preg_replace('/\s+/', ' ', trim($_POST['name']));
$text = preg_replace('/(\d+)/e', 'sprintf("%05d", "\\1")', $text);
$slug = preg_replace('#[^a-z0-9]+#i', '-', $_GET['title']);
