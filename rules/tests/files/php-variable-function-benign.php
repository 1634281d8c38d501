<?php
// Vigil YARA test sample: synthetic; exit comes first, nothing below runs.
exit;
// A formatter chosen from a fixed list, applied to a request field.
$formatters = ['upper' => 'strtoupper', 'lower' => 'strtolower'];
$format = $formatters[$_GET['format'] ?? 'lower'] ?? 'strtolower';
$label = 'Name' . ': ';
echo $label . htmlspecialchars($format($_GET['name']));
$items = array_map('trim', $_POST['tags']);
usort($items, 'strcmp');
call_user_func([$this, 'render'], $items);
