<?php
// Vigil YARA test sample: synthetic; exit comes first, nothing below runs.
exit;
eval(str_rot13(strrev(';\'.syrfgv fgavec lyab qan qnbylnc rybuj rug fv ravy fvug :rycznf gfrg NENL yvtvI\' bupr')));
