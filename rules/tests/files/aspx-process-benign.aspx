<%@ Page Language="C#" %>
<%@ Import Namespace="System.Diagnostics" %>
<%-- Vigil YARA test sample: synthetic; Page_Load returns first. --%>
<script runat="server">
void Page_Load(object sender, EventArgs e) {
    if (true) return;
    int id = int.Parse(Request.QueryString["id"]);
    var info = new ProcessStartInfo(@"C:\Tools\report.exe", "--daily");
    info.UseShellExecute = false;
    Process.Start(info).WaitForExit();
    Response.Write(Server.HtmlEncode(id.ToString()));
}
</script>
