"""Shared pieces of the hub's black-box test harnesses (tests/crash, tests/scaleout, tests/security).

- `edxml_document(...)`: an unsigned edXML document, the structure of
  Tests/Fixtures/edxml/edoc_new_0.edxml without the signature (the servers under test run with
  GOVOFFICE_UNSIGNED=warn). Deterministic: the same arguments give the same bytes, which the crash
  test relies on (a resend after a kill must be byte-identical so the hub answers with the
  original message id).
- `AGENCIES`, `agency(code)`, `generic_agency(code)`: the `<edXML:To>` details of the recipients.
- `ServerProcess`: one `govoffice serve` on a loopback port: start (log appended to a file), wait
  for /readyz, SIGKILL, restart on the same port, stop.
- `free_port()`, `run(...)`, `issue_system(...)`, `production_settings(...)` (seal and secrets key of
  a server outside demo mode), `CONNECTION_ERRORS`.

Python 3 standard library only. The harnesses import it with
`sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))`.
"""

import base64
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error

G22 = "000.00.00.G22"

# Everything that means "the server is not there right now" (killed, restarting).
CONNECTION_ERRORS = (urllib.error.URLError, http.client.HTTPException, ConnectionError, socket.timeout, OSError)


# ---------------------------------------------------------------- edXML documents

# The recipients' contact details, as the test fixtures know them. Each value has the keys of a
# `<edXML:To>` block: name, in_charge (OrganizationInCharge), address, email, phone, fax, website.
AGENCIES = {
    "000.00.00.H41": dict(name="UBND Tỉnh Nghệ An", in_charge="UBND Tỉnh Nghệ An", email="nghean@gov.vn",
                          phone="0383 840418", fax="0383 843049", website="www.nghean.vn",
                          address="Số 03, đường Trường Thi, Thành phố Vinh, Tỉnh Nghệ An, Việt Nam"),
    "000.00.00.H37": dict(name="UBND Tỉnh Ninh Bình", in_charge="UBND Tỉnh Ninh Bình", email="ninhbinh@gov.vn",
                          phone="0229 3871 000", fax="0229 3871 001", website="www.ninhbinh.gov.vn",
                          address="Tỉnh Ninh Bình"),
}


def agency(code, details_of=None):
    """A recipient for `edxml_document`: CODE with the contact details of AGENCIES[details_of or CODE]."""
    return dict(AGENCIES[details_of or code], code=code)


def generic_agency(code):
    """A recipient for `edxml_document` with placeholder contact details ("UBND <code>")."""
    return dict(code=code, name=f"UBND {code}", in_charge="UBND", address="Việt Nam", email="vanthu@gov.vn",
                phone="0243 000 000", fax="0243 000 001", website="www.gov.vn")


_TO = """        <edXML:To>
          <edXML:OrganId>{code}</edXML:OrganId>
          <edXML:OrganizationInCharge>{in_charge}</edXML:OrganizationInCharge>
          <edXML:OrganName>{name}</edXML:OrganName>
          <edXML:OrganAdd>{address}</edXML:OrganAdd>
          <edXML:Email>{email}</edXML:Email>
          <edXML:Telephone>{phone}</edXML:Telephone>
          <edXML:Fax>{fax}</edXML:Fax>
          <edXML:Website>{website}</edXML:Website>
        </edXML:To>
"""

# The From block is Văn phòng Chính phủ's (G22); only its OrganId (and the trace header's) follows
# the `sender` argument.
_TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016">
  <edXML:edXMLEnvelope xmlns:edXML="http://www.mic.gov.vn/TBT/QCVN_102_2016">
    <edXML:edXMLHeader>
      <edXML:MessageHeader>
        <edXML:From>
          <edXML:OrganId>{sender}</edXML:OrganId>
          <edXML:OrganizationInCharge>Văn phòng Chính phủ</edXML:OrganizationInCharge>
          <edXML:OrganName>Văn phòng Chính phủ</edXML:OrganName>
          <edXML:OrganAdd>Số 1 Hoàng Hoa Thám, Quận Ba Đình, Hà Nội</edXML:OrganAdd>
          <edXML:Email>vpcp@gov.vn</edXML:Email>
          <edXML:Telephone>8043100</edXML:Telephone>
          <edXML:Fax>048989898789</edXML:Fax>
          <edXML:Website>vpcp.vn</edXML:Website>
        </edXML:From>
{to}        <edXML:DocumentId>{document_id}</edXML:DocumentId>
        <edXML:Code>
          <edXML:CodeNumber>{n}</edXML:CodeNumber>
          <edXML:CodeNotation>{notation}</edXML:CodeNotation>
        </edXML:Code>
        <edXML:PromulgationInfo>
          <edXML:Place>Hà Nội</edXML:Place>
          <edXML:PromulgationDate>2026/11/23</edXML:PromulgationDate>
        </edXML:PromulgationInfo>
        <edXML:DocumentType>
          <edXML:Type>1</edXML:Type>
          <edXML:TypeDetail>0</edXML:TypeDetail>
          <edXML:TypeName>Công văn</edXML:TypeName>
        </edXML:DocumentType>
        <edXML:Subject>{subject}</edXML:Subject>
        <edXML:Content>{content}</edXML:Content>
        <edXML:SignerInfo>
          <edXML:Competence>TL. BO TRUONG</edXML:Competence>
          <edXML:Position>Chanh van phong</edXML:Position>
          <edXML:FullName>Nguyen Van Thu</edXML:FullName>
        </edXML:SignerInfo>
        <edXML:DueDate>2026/12/31</edXML:DueDate>
        <edXML:OtherInfo>
          <edXML:Priority>0</edXML:Priority>
          <edXML:SphereOfPromulgation>Liên thông văn bản quốc gia</edXML:SphereOfPromulgation>
          <edXML:TyperNotation>TVC</edXML:TyperNotation>
          <edXML:PromulgationAmount>2</edXML:PromulgationAmount>
          <edXML:PageAmount>1</edXML:PageAmount>
          <edXML:Direction>false</edXML:Direction>
        </edXML:OtherInfo>
        <edXML:SteeringType>1</edXML:SteeringType>
      </edXML:MessageHeader>
      <edXML:TraceHeaderList>
        <edXML:Bussiness>
          <edXML:DocumentId>{document_id}</edXML:DocumentId>
          <edXML:BussinessDocType>0</edXML:BussinessDocType>
          <edXML:BussinessDocReason>Văn bản điện tử mới</edXML:BussinessDocReason>
          <edXML:Paper>0</edXML:Paper>
          <edXML:StaffInfo>
            <edXML:Department>Văn thư văn phòng</edXML:Department>
            <edXML:Staff>Nguyễn Thị Ngọc Trâm</edXML:Staff>
            <edXML:Email>vanthuvanphong@gov.vn</edXML:Email>
            <edXML:Mobile>84912000001</edXML:Mobile>
          </edXML:StaffInfo>
        </edXML:Bussiness>
        <edXML:TraceHeader>
          <edXML:OrganId>{sender}</edXML:OrganId>
          <edXML:Timestamp>2026/11/23 08:00:00</edXML:Timestamp>
        </edXML:TraceHeader>
      </edXML:TraceHeaderList>
    </edXML:edXMLHeader>
    <edXML:edXMLBody>
      <edXML:edXMLManifest version="1.0">
        <edXML:Reference>
          <edXML:ContentId>cid:1</edXML:ContentId>
          <edXML:ContentType>application/pdf</edXML:ContentType>
          <edXML:Description>{attachment}</edXML:Description>
          <edXML:AttachmentName>{attachment}</edXML:AttachmentName>
        </edXML:Reference>
      </edXML:edXMLManifest>
    </edXML:edXMLBody>
  </edXML:edXMLEnvelope>
  <AttachmentEncoded>
    <Attachment>
      <ContentId>cid:1</ContentId>
      <AttachmentName>{attachment}</AttachmentName>
      <Description>{attachment}</Description>
      <ContentType>application/pdf</ContentType>
      <edXML:ContentTransferEncoded xmlns:edXML="http://www.mic.gov.vn/TBT/QCVN_102_2016">JVBERi0xLjQKJeLjz9MK</edXML:ContentTransferEncoded>
    </Attachment>
  </AttachmentEncoded>
</edXML>
"""


def edxml_document(n, document_id, recipients, notation, subject, content, attachment, sender=G22):
    """The UTF-8 bytes of one unsigned edXML document.

    N is the code number, DOCUMENT_ID the edXML DocumentId (`sender,date,n/notation`), RECIPIENTS
    a list of dicts as `agency()` / `generic_agency()` return them (one `<edXML:To>` each, in
    order), NOTATION the code notation, SUBJECT and CONTENT the texts, ATTACHMENT the file name of
    the one (tiny PDF) attachment, SENDER the From and trace header OrganId. Values are inserted
    as they are (no XML escaping). Deterministic: no clock, no randomness.
    """
    to = "".join(_TO.format(**r) for r in recipients)
    return _TEMPLATE.format(n=n, document_id=document_id, to=to, notation=notation, subject=subject,
                            content=content, attachment=attachment, sender=sender).encode("utf-8")


# ---------------------------------------------------------------- processes


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run(cmd, env, what):
    """Run a command to completion; on a non-zero exit print its output tail and raise RuntimeError."""
    res = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if res.returncode != 0:
        sys.stderr.write(res.stdout[-4000:] + res.stderr[-4000:])
        raise RuntimeError(f"{what} failed (exit {res.returncode}): {' '.join(cmd)}")
    return res


def production_settings(binary, env):
    """What `serve` needs outside demo mode (PostgreSQL without GOVOFFICE_DEMO=on): the hub's seal
    and the key that seals stored secrets. Runs `govoffice pki demo` (on a migrated, seeded
    database), which writes the seal under GOVOFFICE_PKI_DIR/hub, and returns the variables to add
    to ENV; every node of one database must get the same ones."""
    run([binary, "pki", "demo"], env, "pki demo")
    hub = os.path.join(env["GOVOFFICE_PKI_DIR"], "hub")
    return {"GOVOFFICE_HUB_SEAL_KEY": os.path.join(hub, "hub-seal.key"),
            "GOVOFFICE_HUB_SEAL_CERT": os.path.join(hub, "hub-seal.pem"),
            "GOVOFFICE_SECRETS_KEY": base64.b64encode(os.urandom(32)).decode()}


def psql(url, sql):
    """Rows of one query on PostgreSQL at URL, as lists of strings (psql, tab-separated)."""
    res = subprocess.run(["psql", "-X", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1", url, "-c", sql],
                         stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"psql failed: {res.stderr.strip()}")
    return [line.split("\t") for line in res.stdout.splitlines() if line != ""]


def issue_system(binary, env, agency, system_id, name):
    """`govoffice systems issue --env` for AGENCY; the credentials it printed (GOVOFFICE_SYSTEM_ID, ...)."""
    out = run([binary, "systems", "issue", "--agency", agency, "--id", system_id, "--name", name, "--env"], env,
              f"systems issue {agency}").stdout
    creds = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    if not creds.get("GOVOFFICE_SYSTEM_ID") or not creds.get("GOVOFFICE_SECRET_KEY"):
        raise RuntimeError(f"systems issue --env printed no credentials for {agency}: {out!r}")
    return creds


class ServerProcess:
    """One `govoffice serve` on a loopback port: start, wait for /readyz, SIGKILL, restart, stop.

    BINARY is the govoffice executable, ENV the server's environment, LOG_PATH the file its output
    is appended to (with a `===== start #k =====` line before each start when BANNER), PORT the
    port (a free one by default; kept across restarts), CWD its working folder, LABEL how error
    messages name it.
    """

    def __init__(self, binary, env, log_path, port=None, cwd=None, label="the server", banner=True):
        self.binary = binary
        self.env = env
        self.log_path = log_path
        self.port = port if port is not None else free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.cwd = cwd
        self.label = label
        self.banner = banner
        self.proc = None
        self.starts = 0

    def start(self, ready_seconds=60):
        """Start the server and wait until /readyz answers 200 (RuntimeError if it does not)."""
        self.starts += 1
        with open(self.log_path, "ab") as out:
            if self.banner:
                out.write(f"\n===== start #{self.starts} =====\n".encode())
                out.flush()
            self.proc = subprocess.Popen(
                [self.binary, "serve", "--hostname", "127.0.0.1", "--port", str(self.port)],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=self.env, cwd=self.cwd)
        self.wait_ready(ready_seconds)

    def wait_ready(self, seconds):
        deadline = time.monotonic() + seconds
        delay = 0.005
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.label} exited (code {self.proc.returncode}) before /readyz answered; "
                                   f"see {self.log_path}")
            try:
                # http.client, not urllib: no proxy settings from the environment on loopback.
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                try:
                    conn.request("GET", "/readyz")
                    if conn.getresponse().status == 200:
                        return
                finally:
                    conn.close()
            except CONNECTION_ERRORS:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.label}: /readyz did not answer 200 within {seconds}s; see {self.log_path}")
            # Poll fast at first (a warm restart is quick), then back off a little.
            time.sleep(delay)
            delay = min(delay * 1.5, 0.05)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        """SIGKILL, and reap the process."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        """SIGTERM; SIGKILL if it has not exited within 10 s. Nothing if it is not running."""
        if not self.alive():
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
