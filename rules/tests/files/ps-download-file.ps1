# Download reports to disk; nothing downloaded is run.
$wc = New-Object System.Net.WebClient
$wc.DownloadFile('https://reports.example.invalid/daily.csv', 'C:\Data\daily.csv')
Invoke-WebRequest -Uri 'https://reports.example.invalid/weekly.csv' -OutFile 'C:\Data\weekly.csv'
$json = (New-Object Net.WebClient).DownloadString('https://reports.example.invalid/status.json') | ConvertFrom-Json
Invoke-Expression -Command 'Get-Date'
