<?php
// A controller in the style of common PHP frameworks: request data is
// read, decoded and stored, but never evaluated or run.
namespace App\Controller;

final class ProfileController
{
    public function __construct(private \PDO $pdo) {}

    public function show(): string
    {
        $prefs = json_decode(base64_decode($_COOKIE['prefs'] ?? ''), true) ?: [];
        $stmt = $this->pdo->prepare('SELECT * FROM users WHERE id = ?');
        $stmt->execute([(int)($_GET['id'] ?? 0)]);
        $this->pdo->exec('UPDATE stats SET views = views + 1');
        $ch = curl_init('https://api.example.invalid/avatar');
        $img = curl_exec($ch);
        // never eval() or system() request data such as $_GET['x']
        $cache = unserialize(gzuncompress(base64_decode($prefs['cache'] ?? '')));
        return htmlspecialchars(json_encode([$stmt->fetch(), $cache, strlen($img)]));
    }
}
