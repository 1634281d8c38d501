@echo off
rem Build script: runs in a visible window.
powershell -NoProfile -ExecutionPolicy Bypass -File .\build.ps1
powershell -WindowStyle Normal -Command "Write-Host done"
