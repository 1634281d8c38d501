<%@ Page Language="C#" %>
<%@ Import Namespace="System.Diagnostics" %>
<%-- Vigil YARA test sample: synthetic; Page_Load returns first. --%>
<script runat="server">
void Page_Load(object sender, EventArgs e) {
    if (true) return;
    byte[] png = Convert.FromBase64String(Request.Form["image"]);
    System.IO.File.WriteAllBytes(Server.MapPath("~/App_Data/avatar.png"), png);
    var asm = System.Reflection.Assembly.GetExecutingAssembly();
    Response.Write(Server.HtmlEncode(asm.GetName().Version.ToString()));
}
</script>
