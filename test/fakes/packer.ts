/**
 * The encoder side of the packed-script format (docs/upstreams/providers.md), for fakes and round-trip tests:
 * bytes of the UTF-8 text, plus an offset, written in base `e` with the alphabet's first `e` symbols,
 * each chunk closed by the alphabet's symbol number `e`.
 */
export function packScript(
  text: string,
  options: { alphabet?: string; base?: number; offset?: number; u?: number; r?: number } = {},
): string {
  const alphabet = options.alphabet ?? "HbcljmTun";
  const base = options.base ?? 2;
  const offset = options.offset ?? 37;
  const delimiter = alphabet[base];
  const payload = [...Buffer.from(text, "utf8")]
    .map((byte) =>
      (byte + offset)
        .toString(base)
        .split("")
        .map((digit) => alphabet[Number.parseInt(digit, base)])
        .join(""),
    )
    .map((chunk) => `${chunk}${delimiter}`)
    .join("");
  const decoder =
    'function(h,u,n,t,e,r){r="";for(var i=0,len=h.length;i<len;i++){var s="";while(h[i]!==n[e]){s+=h[i];i++}' +
    'for(var j=0;j<n.length;j++)s=s.replace(new RegExp(n[j],"g"),j);r+=String.fromCharCode(_0xe67c(s,e,10)-t)}' +
    "return decodeURIComponent(escape(r))}";
  return `eval(${decoder}("${payload}",${options.u ?? 27},"${alphabet}",${offset},${base},${options.r ?? 39}))`;
}
