# Install a certificate delivered as base64 text.
$pem = Get-Content -Raw .\agency-ca.b64
$bytes = [Convert]::FromBase64String($pem)
[IO.File]::WriteAllBytes("$env:TEMP\agency-ca.cer", $bytes)
Import-Certificate -FilePath "$env:TEMP\agency-ca.cer" -CertStoreLocation Cert:\LocalMachine\Root
