# Vigil YARA test sample: synthetic, harmless.
$b = 'VwByAGkAdABlAC0ATwB1AHQAcAB1AHQAIAAnAFYAaQBnAGkAbAAgAFkAQQBSAEEAIAB0AGUAcwB0ACAAcwBhAG0AcABsAGUAOgAgAGgAYQByAG0AbABlAHMAcwAsACAAcAByAGkAbgB0AHMAIAB0AGgAaQBzACAAbABpAG4AZQAgAG8AbgBsAHkALgAnAA=='
$c = [System.Text.Encoding]::Unicode.GetString([System.Convert]::FromBase64String($b))
Invoke-Expression $c
