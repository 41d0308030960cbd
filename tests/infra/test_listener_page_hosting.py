"""The listener page on AWS (issue 5): private bucket, CloudFront with OAC and security
headers, the page files and a generated config.json, the ListenerPageUrl output."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from infra.options import DEFAULT_LISTENER_LANGUAGES, DeployOptions

pytestmark = pytest.mark.infra

PIPELINE = "PolycastPipeline"
REPO_ROOT = Path(__file__).resolve().parents[2]
WEB = REPO_ROOT / "web"
MARKER = re.compile(r"<<marker:0xbaba:\d+>>")


def _only(resources: dict[str, dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    assert len(resources) == 1, list(resources)
    return next(iter(resources.items()))


def _page_bucket(synth: Any) -> tuple[str, dict[str, Any]]:
    buckets = synth.resources(PIPELINE, "AWS::S3::Bucket")
    return _only({k: v for k, v in buckets.items() if k.startswith("ListenerPage")})


def _distribution(synth: Any) -> tuple[str, dict[str, Any]]:
    distribution_id, resource = _only(synth.resources(PIPELINE, "AWS::CloudFront::Distribution"))
    return distribution_id, resource["Properties"]["DistributionConfig"]


def _deployment(synth: Any) -> dict[str, Any]:
    _, resource = _only(synth.resources(PIPELINE, "Custom::CDKBucketDeployment"))
    props: dict[str, Any] = resource["Properties"]
    return props


def _staged_sources(synth: Any) -> list[Path]:
    """The deployment's sources, in order, as staged in the cloud assembly."""
    assets = json.loads((synth.outdir / f"{PIPELINE}.assets.json").read_text())["files"]
    return [
        synth.outdir / assets[key.removesuffix(".zip")]["source"]["path"]
        for key in _deployment(synth)["SourceObjectKeys"]
    ]


def _config(synth: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The staged config.json (markers left in) and its markers' CloudFormation values."""
    deployment = _deployment(synth)
    for index, staged in enumerate(_staged_sources(synth)):
        if (staged / "config.json").is_file():
            text = (staged / "config.json").read_text()
            return json.loads(text), deployment["SourceMarkers"][index]
    raise AssertionError("no config.json among the deployment's sources")


def _as_join(text: str, markers: dict[str, Any]) -> list[Any]:
    """``wss://<<marker:0>>.execute-api…`` → the Fn::Join parts it deploys as."""
    parts: list[Any] = []
    position = 0
    for found in MARKER.finditer(text):
        if found.start() > position:
            parts.append(text[position : found.start()])
        parts.append(markers[found.group()])
        position = found.end()
    if position < len(text):
        parts.append(text[position:])
    return parts


# What pages and modules load: <link href>, <script src>, `import … from "./x.js"`,
# and module URLs named in a string (the speaker page's audio worklet).
_PAGE_REFERENCE = re.compile(r'(?:href|src)="([^":?#]+\.(?:css|js|html))"')
_MODULE_REFERENCE = re.compile(r'["\'](?:\./)?([\w-]+\.(?:js|css))["\']')


def site_files() -> set[str]:
    """Every page in web/ and every file they reach, followed from the pages."""
    pages = {p.name for p in WEB.glob("*.html")}
    found: set[str] = set()
    todo = sorted(pages)
    while todo:
        name = todo.pop()
        if name in found:
            continue
        found.add(name)
        text = (WEB / name).read_text(encoding="utf-8")
        pattern = _PAGE_REFERENCE if name.endswith(".html") else _MODULE_REFERENCE
        for found_ref in pattern.findall(text):
            ref = found_ref.removeprefix("./")
            assert (WEB / ref).is_file(), f"{name} refers to {ref}, which web/ does not have"
            todo.append(ref)
    return found


def test_the_site_reaches_every_page_module_and_stylesheet() -> None:
    """The followed set is the whole site: each page, its CSS and its module graph."""
    files = site_files()
    assert {"index.html", "join.html", "display.html", "speaker.html"} <= files
    assert {p.name for p in WEB.glob("*.css")} <= files
    assert "pcm-worklet.js" in files  # loaded by URL, not imported
    assert {"app.js", "connection.js", "captions.js", "reorder.js"} <= files
    shipped = {p.name for p in WEB.glob("*.js") if not re.search(r"\.(test|spec)\.js$", p.name)}
    assert files >= shipped, f"modules no page loads: {sorted(shipped - files)}"


def _csp_directives(policy: str) -> dict[str, list[str]]:
    directives = {}
    for part in policy.split(";"):
        if part.strip():
            name, *sources = part.split()
            directives[name] = sources
    return directives


# --- bucket --------------------------------------------------------------------------


def test_page_bucket_is_private_encrypted_and_tls_only(synth: Any) -> None:
    bucket_id, bucket = _page_bucket(synth)
    props = bucket["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"] == [
        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
    ]
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    assert "WebsiteConfiguration" not in props
    policies = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in synth.resources(PIPELINE, "AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]
    (statements,) = policies
    deny = [s for s in statements if s["Effect"] == "Deny"]
    assert [s["Condition"] for s in deny] == [{"Bool": {"aws:SecureTransport": "false"}}]
    allows = [s for s in statements if s["Effect"] == "Allow"]
    assert allows, "CloudFront needs a grant to read the bucket"
    for statement in allows:
        assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
        assert statement["Action"] == "s3:GetObject"


def test_only_this_distribution_may_read_the_bucket(synth: Any) -> None:
    """Origin Access Control: the grant is conditioned on the distribution's ARN."""
    bucket_id, _ = _page_bucket(synth)
    distribution_id, _ = _distribution(synth)
    (policy,) = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in synth.resources(PIPELINE, "AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]
    (allow,) = [s for s in policy if s["Effect"] == "Allow"]
    source_arn = json.dumps(allow["Condition"]["StringEquals"]["AWS:SourceArn"])
    assert f'{{"Ref": "{distribution_id}"}}' in source_arn


# --- distribution --------------------------------------------------------------------


def test_distribution_reads_the_bucket_through_origin_access_control(synth: Any) -> None:
    bucket_id, _ = _page_bucket(synth)
    oac_id, oac = _only(synth.resources(PIPELINE, "AWS::CloudFront::OriginAccessControl"))
    assert oac["Properties"]["OriginAccessControlConfig"] == {
        "Name": oac["Properties"]["OriginAccessControlConfig"]["Name"],
        "OriginAccessControlOriginType": "s3",
        "SigningBehavior": "always",
        "SigningProtocol": "sigv4",
    }
    _, config = _distribution(synth)
    (origin,) = [o for o in config["Origins"] if "S3OriginConfig" in o]
    assert origin["DomainName"] == {"Fn::GetAtt": [bucket_id, "RegionalDomainName"]}
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": [oac_id, "Id"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    assert not synth.resources(PIPELINE, "AWS::CloudFront::CloudFrontOriginAccessIdentity")


def test_distribution_serves_index_html_over_https_with_security_headers(synth: Any) -> None:
    headers_id, _ = _only(synth.resources(PIPELINE, "AWS::CloudFront::ResponseHeadersPolicy"))
    _, config = _distribution(synth)
    assert config["DefaultRootObject"] == "index.html"
    behavior = config["DefaultCacheBehavior"]
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behavior["AllowedMethods"] == ["GET", "HEAD"]
    assert behavior["ResponseHeadersPolicyId"] == {"Ref": headers_id}
    assert [b["PathPattern"] for b in config["CacheBehaviors"]] == ["/sessions/*"]


def _session_check_api_id(synth: Any) -> str:
    (api_id,) = [
        k
        for k, v in synth.resources(PIPELINE, "AWS::ApiGatewayV2::Api").items()
        if v["Properties"]["ProtocolType"] == "HTTP"
    ]
    return api_id


def test_distribution_forwards_the_session_check_uncached_to_its_api(synth: Any) -> None:
    """Same origin as the page: no CORS, no new CSP host, query string passed on."""
    headers_id, _ = _only(synth.resources(PIPELINE, "AWS::CloudFront::ResponseHeadersPolicy"))
    _, config = _distribution(synth)
    (behavior,) = config["CacheBehaviors"]
    origin = next(o for o in config["Origins"] if o["Id"] == behavior["TargetOriginId"])
    parts = origin["DomainName"]["Fn::Join"][1]
    assert parts[0] == {"Ref": _session_check_api_id(synth)}
    assert parts[1] == ".execute-api."
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert behavior["AllowedMethods"] == ["GET", "HEAD"]
    assert behavior["ViewerProtocolPolicy"] == "https-only"
    # Managed policies: CachingDisabled, AllViewerExceptHostHeader (API Gateway needs its own
    # Host header).
    assert behavior["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
    assert behavior["OriginRequestPolicyId"] == "b689b0a8-53d0-40ab-baf2-68738e2966ac"
    assert behavior["ResponseHeadersPolicyId"] == {"Ref": headers_id}


def test_security_headers(synth: Any) -> None:
    _, policy = _only(synth.resources(PIPELINE, "AWS::CloudFront::ResponseHeadersPolicy"))
    headers = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert headers["ContentTypeOptions"] == {"Override": True}
    assert headers["FrameOptions"] == {"FrameOption": "DENY", "Override": True}
    assert headers["ReferrerPolicy"] == {"Override": True, "ReferrerPolicy": "no-referrer"}
    assert headers["ContentSecurityPolicy"]["Override"] is True


def _header_csp(synth: Any) -> Any:
    _, policy = _only(synth.resources(PIPELINE, "AWS::CloudFront::ResponseHeadersPolicy"))
    config = policy["Properties"]["ResponseHeadersPolicyConfig"]
    return config["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"]


def test_csp_lets_the_page_reach_this_websocket_api(synth: Any) -> None:
    (api_id,) = [
        k
        for k, v in synth.resources(PIPELINE, "AWS::ApiGatewayV2::Api").items()
        if v["Properties"]["ProtocolType"] == "WEBSOCKET"
    ]
    csp = _header_csp(synth)
    parts = csp["Fn::Join"][1]
    text = "".join(p if isinstance(p, str) else "<>" for p in parts)
    connect = _csp_directives(text)["connect-src"]
    # This API, and the speaker page's recognition stream (Amazon Transcribe, this region).
    assert connect == [
        "'self'",
        "wss://<>.execute-api.<>.<>",
        "wss://transcribestreaming.<>.amazonaws.com:8443",
    ]
    host = parts[parts.index({"Ref": api_id}) - 1 : parts.index({"Ref": api_id}) + 5]
    assert host == [
        host[0],
        {"Ref": api_id},
        ".execute-api.",
        {"Ref": "AWS::Region"},
        ".",
        {"Ref": "AWS::URLSuffix"},
    ]
    assert host[0].endswith("connect-src 'self' wss://")


def test_csp_header_only_narrows_the_pages_own_policy(synth: Any) -> None:
    """The browser enforces both: same directives as index.html's <meta>, two narrowed."""
    html = (WEB / "index.html").read_text(encoding="utf-8")
    meta = re.search(r'http-equiv="Content-Security-Policy"\s+content="([^"]+)"', html)
    assert meta, "web/index.html has no CSP meta"
    page = _csp_directives(meta.group(1))
    parts = _header_csp(synth)["Fn::Join"][1]
    header = _csp_directives("".join(p if isinstance(p, str) else "x" for p in parts))
    assert header.pop("frame-ancestors") == ["'none'"]
    assert set(header) == set(page)
    for name in set(page) - {"connect-src", "media-src"}:
        assert header[name] == page[name], name
    assert header["media-src"][:2] == ["'self'", "blob:"]
    assert all(source.startswith("https://") for source in header["media-src"][2:])


# --- deployed files and config.json --------------------------------------------------


def test_deploys_the_page_files_without_package_json_or_tests(synth: Any) -> None:
    files, config = _staged_sources(synth)
    staged = {p.name for p in files.iterdir()}
    expected = {
        p.name
        for p in WEB.iterdir()
        if p.is_file()
        and p.name not in ("package.json", "config.json")
        and not re.search(r"\.(test|spec)\.js$", p.name)
        and not p.name.startswith(".")
    }
    assert site_files() <= staged
    assert staged == expected
    assert {p.name for p in config.iterdir()} == {"config.json"}


def test_config_json_points_the_page_at_this_websocket_stage(synth: Any) -> None:
    config, markers = _config(synth)
    assert set(config) == {
        "websocketUrl",
        "languages",
        "sourceLanguage",
        "sessionCheckUrl",
        "exportUrl",
    }
    assert config["exportUrl"] is None  # no transcripts over HTTP when deployed
    deployed_url = _as_join(config["websocketUrl"], markers)
    assert deployed_url == synth.pipeline["Outputs"]["WebSocketUrl"]["Value"]["Fn::Join"][1]
    assert config["languages"] == list(DEFAULT_LISTENER_LANGUAGES)
    assert config["sourceLanguage"] == "en"
    distribution_id, _ = _distribution(synth)
    check_url = _as_join(config["sessionCheckUrl"], markers)
    assert check_url == [
        "https://",
        {"Fn::GetAtt": [distribution_id, "DomainName"]},
        "/sessions/{sessionId}",
    ]
    assert synth.pipeline["Outputs"]["SessionCheckUrl"]["Value"]["Fn::Join"][1] == check_url


def test_each_deploy_replaces_the_files_and_refreshes_cloudfront(synth: Any) -> None:
    distribution_id, _ = _distribution(synth)
    deployment = _deployment(synth)
    assert deployment["DestinationBucketName"] == {"Ref": _page_bucket(synth)[0]}
    assert deployment["Prune"] is True
    assert deployment["DistributionId"] == {"Ref": distribution_id}
    assert deployment["DistributionPaths"] == ["/*"]
    assert deployment["SystemMetadata"]["cache-control"] == "public, max-age=300"
    # Deleting the stack empties the page bucket, so the bucket can go too.
    assert deployment["RetainOnDelete"] is False
    assert _page_bucket(synth)[1]["DeletionPolicy"] == "Delete"


def test_listener_page_url_output(synth: Any) -> None:
    distribution_id, _ = _distribution(synth)
    output = synth.pipeline["Outputs"]["ListenerPageUrl"]
    assert output["Value"] == {
        "Fn::Join": ["", ["https://", {"Fn::GetAtt": [distribution_id, "DomainName"]}, "/"]]
    }


# --- options -------------------------------------------------------------------------


class _Context:
    def __init__(self, **values: Any) -> None:
        self.values = {f"polycast:{k}": v for k, v in values.items()}

    def try_get_context(self, key: str) -> Any:
        return self.values.get(key)


def test_languages_come_from_context() -> None:
    options = DeployOptions.from_context(_Context(languages="es,ja,es", sourceLanguage="de"))
    assert options.listener_languages == ("es", "ja")
    assert options.source_language == "de"
    assert DeployOptions.from_context(_Context(languages=["fr"])).listener_languages == ("fr",)
    assert DeployOptions.from_context(_Context()).listener_languages == DEFAULT_LISTENER_LANGUAGES


@pytest.mark.parametrize("languages", ["gl", "es,xx", "", []])
def test_languages_amazon_translate_cannot_serve_are_refused(languages: Any) -> None:
    with pytest.raises(ValueError, match="polycast:languages"):
        DeployOptions.from_context(_Context(languages=languages))


def test_final_caption_first_is_on_unless_the_context_turns_it_off() -> None:
    assert DeployOptions.from_context(_Context()).final_caption_first is True
    off = DeployOptions.from_context(_Context(finalCaptionFirst="false"))
    assert off.final_caption_first is False
    with pytest.raises(ValueError, match="finalCaptionFirst"):
        DeployOptions.from_context(_Context(finalCaptionFirst="sometimes"))
