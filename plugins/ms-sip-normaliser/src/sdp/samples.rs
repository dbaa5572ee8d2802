//! Test SDPs shaped like real Lync 2013 and Cisco traffic, and assertion helpers.

/// A Lync 2013 audio+video offer with every Microsoft extension the rules handle.
pub const LYNC_2013_AUDIO_VIDEO_OFFER: &str = "v=0
o=- 0 1 IN IP4 192.168.1.20
s=session
c=IN IP4 192.168.1.20
b=CT:99980
t=0 0
a=x-devicecaps:audio:send,recv;video:send,recv
m=audio 19852 RTP/AVP 117 104 114 9 112 111 0 103 8 116 115 97 13 118 101
a=x-ssrc-range:1436286208-1436286208
a=rtcp-fb:* x-message app send:dsh recv:dsh
a=rtcp-rsize
a=label:main-audio
a=x-source:main-audio
a=ice-ufrag:bTWd
a=ice-pwd:mOLsLYXuPhrT3WZGMY3hmMHq
a=candidate:1 1 UDP 2130706431 192.168.1.20 19852 typ host 
a=candidate:1 2 UDP 2130705918 192.168.1.20 19853 typ host 
a=candidate:2 1 TCP-PASS 174455807 203.0.113.5 50428 typ srflx raddr 192.168.1.20 rport 50428 
a=candidate:3 1 TCP-ACT 174846975 203.0.113.5 50428 typ srflx raddr 192.168.1.20 rport 50428 
a=candidate:qkEm8nW/SDdIB9E+Omtw3ogcq2n9fDOs 1 0PzxFlyBa4D9+BFDsOQsQA UDP 0.830 192.168.1.20 19852
a=candidate:qkEm8nW/SDdIB9E+Omtw3ogcq2n9fDOs 2 0PzxFlyBa4D9+BFDsOQsQA UDP 0.830 192.168.1.20 19853
a=cryptoscale:1 client AES_CM_128_HMAC_SHA1_80 inline:GmYXwFi8Bx2sN0rWq2WwoUHB4rtHhCQ03i4xJk0m|2^31|1:1
a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:KhcwGpmMDQ30FK1pZB0xUJgdXjcSDX0I07JYg4uq|2^31|1:1
a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:2Ip0MPPVdu7s5RZH/zvqVsSrfCr35A5qtHDy+1jk|2^31
a=encryption:optional
a=x-vendor-unknown:keep me
a=maxptime:200
a=rtcp:19853
a=rtpmap:117 G722/8000/2
a=rtpmap:104 SILK/16000
a=fmtp:104 useinbandfec=1; usedtx=0
a=rtpmap:114 x-msrta/16000
a=fmtp:114 bitrate=29000
a=rtpmap:9 G722/8000
a=rtpmap:112 G7221/16000
a=fmtp:112 bitrate=24000
a=rtpmap:111 SIREN/16000
a=fmtp:111 bitrate=16000
a=rtpmap:0 PCMU/8000
a=rtpmap:103 SILK/8000
a=fmtp:103 useinbandfec=1; usedtx=0
a=rtpmap:8 PCMA/8000
a=rtpmap:116 AAL2-G726-32/8000
a=rtpmap:115 x-msrta/8000
a=fmtp:115 bitrate=11800
a=rtpmap:97 RED/8000
a=rtpmap:13 CN/8000
a=rtpmap:118 CN/16000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=ptime:20
m=video 2342 RTP/AVP 122 121 123
a=x-ssrc-range:2684354561-2684354660
a=rtcp-fb:* x-message app send:src,x-pli recv:src,x-pli
a=rtcp-fb:* nack
a=rtcp-rsize
a=label:main-video
a=label:1
a=x-source:main-video
a=x-mediabw:main-video send=8100;recv=8100
a=ice-ufrag:Vd1q
a=ice-pwd:tZtNlvS5yKbD5ZK9zLXq2n1Q
a=candidate:1 1 UDP 2130706431 192.168.1.20 2342 typ host 
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:9uVu6QJnBo9n0VNH3dpaQ5AE2lT4xS0bbLmGjwGZ|2^31|1:1
a=encryption:optional
a=x-caps:121 263:1920:1080:30.0:2000000:1;4359:1280:720:30.0:1500000:2
a=x-caps:122 263:1920:1080:30.0:2000000:1
a=rtcp:2343
a=rtpmap:122 X-H264UC/90000
a=fmtp:122 packetization-mode=1;mst-mode=NI-TC
a=rtcp-fb:122 nack pli
a=rtpmap:121 x-rtvc1/90000
a=rtpmap:123 x-ulpfecuc/90000
";

/// A Lync desktop-sharing-only offer: nothing a standard endpoint can take.
pub const LYNC_APPLICATION_SHARING_OFFER: &str = "v=0\r
o=- 0 0 IN IP4 192.168.1.20\r
s=session\r
c=IN IP4 192.168.1.20\r
b=CT:99980\r
t=0 0\r
m=applicationsharing 15298 TCP/RTP/AVP 127\r
a=ice-ufrag:Xk3a\r
a=ice-pwd:Q9nqFv8JL3l0bWfA0yHn6T2e\r
a=candidate:1 1 TCP-PASS 2120613887 192.168.1.20 15298 typ host \r
a=setup:passive\r
a=connection:new\r
a=rtcp-mux\r
a=mid:1\r
a=rtpmap:127 x-data/90000\r
a=x-applicationsharing-session-id:1\r
a=x-applicationsharing-role:sharer\r
a=x-applicationsharing-media-type:rdp\r
";

/// A Cisco (CUCM) SRTP offer: RTP/SAVP, keys with and without lifetime/MKI, AES_256 and _32 suites.
pub const CISCO_SRTP_OFFER: &str = "v=0\r
o=CiscoSystemsCCM-SIP 2000 1 IN IP4 10.10.10.5\r
s=SIP Call\r
c=IN IP4 10.10.20.7\r
b=TIAS:64000\r
b=AS:64\r
t=0 0\r
m=audio 24580 RTP/SAVP 0 8 101\r
b=TIAS:64000\r
a=ptime:20\r
a=rtpmap:0 PCMU/8000\r
a=rtpmap:8 PCMA/8000\r
a=rtpmap:101 telephone-event/8000\r
a=fmtp:101 0-15\r
a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:bw1H9f+Sv0bXkHkU4RXXzw4d6Hf0SWn7lU6oV2u8eYr9WzQmA8XQkH4T6wXU3A==|2^31\r
a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^31|1:1 WSH=64\r
a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj\r
a=crypto:4 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|2^31\r
a=sendrecv\r
";

/// An initial offer that starts on hold (RFC 2543 `c=0.0.0.0` and RFC 3264 `a=sendonly`).
pub const HOLD_INITIAL_OFFER: &str = "v=0\r
o=pbx 4711 4711 IN IP4 203.0.113.9\r
s=-\r
c=IN IP4 0.0.0.0\r
t=0 0\r
a=sendonly\r
m=audio 30000 RTP/AVP 0 101\r
a=rtpmap:0 PCMU/8000\r
a=rtpmap:101 telephone-event/8000\r
a=inactive\r
";

/// A Lync IM session offer ([MS-SIPRE]).
pub const LYNC_IM_OFFER: &str = "v=0\r
o=- 0 0 IN IP4 192.168.1.20\r
s=session\r
c=IN IP4 192.168.1.20\r
t=0 0\r
m=message 5060 sip null\r
a=accept-types:text/plain multipart/alternative image/gif text/rtf text/html application/x-ms-ink application/ms-imdn+xml text/x-msmsgsinvite\r
";

/// An RFC 5245 §9.1.2.2 re-INVITE after connectivity checks.
pub const ICE_UPDATE_OFFER: &str = "v=0\r
o=- 0 2 IN IP4 192.168.1.20\r
s=session\r
c=IN IP4 192.168.1.20\r
t=0 0\r
m=audio 19852 RTP/AVP 0 101\r
a=ice-ufrag:bTWd\r
a=ice-pwd:mOLsLYXuPhrT3WZGMY3hmMHq\r
a=candidate:1 1 UDP 2130706431 192.168.1.20 19852 typ host \r
a=remote-candidates:1 198.51.100.4 40000 2 198.51.100.4 40001\r
a=rtpmap:0 PCMU/8000\r
";

/// The lines of `text`, split on CRLF.
pub fn lines_of(text: &str) -> impl Iterator<Item = &str> {
    text.split("\r\n")
}

/// Whether `text` has a line exactly equal to `line`.
pub fn has_line(text: &str, line: &str) -> bool {
    lines_of(text).any(|candidate| candidate == line)
}

/// Every line ends in CRLF, there is no bare LF or CR, and the text ends with CRLF.
pub fn assert_crlf_only(text: &str) {
    assert!(text.ends_with("\r\n"), "no final CRLF");
    let without_crlf = text.replace("\r\n", "");
    assert!(
        !without_crlf.contains('\n') && !without_crlf.contains('\r'),
        "bare LF or CR in output"
    );
}

/// Output lines copied from the input appear in the input's order.
pub fn assert_kept_in_order(input: &str, output: &str) {
    let input_lines: Vec<&str> = input.lines().collect();
    let mut position = 0;
    for line in lines_of(output).filter(|line| !line.is_empty()) {
        if !input_lines.contains(&line) {
            continue; // a rewritten line
        }
        match input_lines[position..].iter().position(|&l| l == line) {
            Some(offset) => position += offset + 1,
            None => panic!("line out of order: {line}"),
        }
    }
}
