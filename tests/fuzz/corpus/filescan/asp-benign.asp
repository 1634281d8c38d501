<%
' Vigil YARA test sample: synthetic; Response.End comes first.
Response.End
%>
<%
Dim conn, cmd, name
name = Request.Form("name")
Set cmd = Server.CreateObject("ADODB.Command")
cmd.CommandText = "INSERT INTO visitors (name) VALUES (?)"
cmd.Execute , Array(name)
' We execute requests in the order received (see the manual).
Set sh = Server.CreateObject("WScript.Shell")
Response.Write Server.HTMLEncode(sh.RegRead("HKLM\Software\Example\Version"))
Response.Write Server.HTMLEncode(name)
%>
