<%-- Vigil YARA test sample: synthetic; the page returns first. --%>
<%@ page import="java.io.*" %>
<% if (true) { return; } %>
<%
String name = request.getParameter("name");
int cpus = Runtime.getRuntime().availableProcessors();
Process p = Runtime.getRuntime().exec("uptime");
Process q = new ProcessBuilder("df", "-h").start();
String token = java.util.Base64.getEncoder().encodeToString(name.getBytes("UTF-8"));
%>
<p>Hello <%= org.owasp.encoder.Encode.forHtml(name) %>, <%= cpus %> CPUs.</p>
