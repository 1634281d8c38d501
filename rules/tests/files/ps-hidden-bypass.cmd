@echo off
rem Vigil YARA test sample: synthetic; the script named does not exist.
powershell -WindowStyle Hidden -ExecutionPolicy Bypass -File C:\ProgramData\vigil-test.ps1
