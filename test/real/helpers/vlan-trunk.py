#!/usr/bin/env python3
"""A userspace 802.1Q trunk for the real-program tests (test/real/helpers/vlan-trunk.ts).

The test machines' kernel has no 8021q and no bridge vlan_filtering, so a tagged VLAN between a
QEMU guest and the boot servers is terminated here instead:

  --trunk IF          the guest's tap: untagged (native) frames and 802.1Q-tagged frames
  --access VID=IF     one access port per VLAN (VID 0 = native/untagged), usually the peer end of
                      a veth pair whose other end holds the server's address

Trunk -> access: the tag is taken from PACKET_AUXDATA (the kernel strips it from the bytes on
receive) or, if still in the bytes, from there; the frame goes out untagged on the access port of
its VID (untagged and VID 0 -> access 0). Unknown VIDs are dropped and counted.
Access -> trunk: the frame gets the tag of the access port's VID (none for VID 0).
Outgoing frames (PACKET_OUTGOING) are ignored so nothing loops.

Checksum and segmentation offloads (QEMU's tap and the veths pass partial checksums and 64 KiB
TSO frames) travel with the frame: every socket uses PACKET_VNET_HDR, whose virtio_net_hdr is
read on receive and handed back on send (offsets moved by 4 when a tag is added or removed).

Prints "vlan-trunk: ready" when all sockets are bound; on SIGUSR1 and on SIGTERM/SIGINT (then it
exits 0) one line "vlan-trunk: counts {json}":
  fromTrunk  {vid: frames received on the trunk and forwarded to that VID's access port}
  toTrunk    {vid: frames received on that access port and sent to the trunk}
  dropped    {vid: frames received on the trunk with a VID that has no access port}
  tagInAuxdata / tagInBytes   where the trunk's tagged frames had their tag
  sendErrors, truncated, outgoingIgnored
Stdlib only.
"""
import argparse
import json
import os
import select
import signal
import socket
import struct
import sys

ETH_P_ALL = 0x0003
ETH_P_8021Q = 0x8100
ETH_P_8021AD = 0x88A8
SOL_PACKET = 263
PACKET_ADD_MEMBERSHIP = 1
PACKET_MR_PROMISC = 1
PACKET_AUXDATA = 8
PACKET_VNET_HDR = 15
PACKET_OUTGOING = 4
TP_STATUS_VLAN_VALID = 0x10
SO_RCVBUFFORCE = 33
SO_SNDBUFFORCE = 32
VNET_HDR = struct.Struct('<BBHHHH')  # flags, gso_type, hdr_len, gso_size, csum_start, csum_offset
VIRTIO_NET_HDR_F_NEEDS_CSUM = 1
AUXDATA = struct.Struct('IIIHHHH')  # tp_status, tp_len, tp_snaplen, tp_mac, tp_net, tp_vlan_tci, tp_vlan_tpid
BUF = 256 * 1024
SOCKBUF = 4 * 1024 * 1024
BATCH = 64


def log(msg):
    print(f'vlan-trunk: {msg}', flush=True)


def open_sock(ifname):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    for opt, force, val in ((socket.SO_RCVBUF, SO_RCVBUFFORCE, SOCKBUF), (socket.SO_SNDBUF, SO_SNDBUFFORCE, SOCKBUF)):
        try:
            s.setsockopt(socket.SOL_SOCKET, force, val)
        except OSError:
            s.setsockopt(socket.SOL_SOCKET, opt, val)
    s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    s.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
    s.bind((ifname, ETH_P_ALL))
    ifindex = socket.if_nametoindex(ifname)
    # struct packet_mreq { int ifindex; u16 type; u16 alen; u8 address[8]; }; released on close.
    s.setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP, struct.pack('iHH8s', ifindex, PACKET_MR_PROMISC, 0, b''))
    s.setblocking(False)
    return s


def shift_hdr(hdr, delta):
    """The virtio_net_hdr of a frame that grew (tag added, +4) or shrank (tag removed, -4)."""
    flags, gso_type, hdr_len, gso_size, csum_start, csum_offset = VNET_HDR.unpack(hdr)
    if flags & VIRTIO_NET_HDR_F_NEEDS_CSUM:
        csum_start += delta
    if hdr_len:
        hdr_len += delta
    return VNET_HDR.pack(flags, gso_type, hdr_len, gso_size, csum_start, csum_offset)


def main():
    ap = argparse.ArgumentParser(description='userspace 802.1Q trunk')
    ap.add_argument('--trunk', required=True, help='interface carrying native and tagged frames')
    ap.add_argument('--access', action='append', default=[], metavar='VID=IF', help='access port (VID 0 = native)')
    a = ap.parse_args()
    access = {}
    for spec in a.access:
        vid_s, sep, ifname = spec.partition('=')
        if not sep or not vid_s.isdigit() or not ifname or not 0 <= int(vid_s, 10) <= 4094:
            ap.error(f'bad --access {spec!r} (want VID=IF, VID 0..4094 in decimal)')
        vid = int(vid_s, 10)
        if vid in access:
            ap.error(f'VID {vid} given twice')
        access[vid] = ifname
    if not access:
        ap.error('at least one --access VID=IF')

    counts = {
        'fromTrunk': {},
        'toTrunk': {},
        'dropped': {},
        'tagInAuxdata': 0,
        'tagInBytes': 0,
        'sendErrors': 0,
        'truncated': 0,
        'outgoingIgnored': 0,
    }
    last_error = {}

    def bump(key, vid):
        d = counts[key]
        d[str(vid)] = d.get(str(vid), 0) + 1

    def report():
        log('counts ' + json.dumps(counts, sort_keys=True))
        if last_error:
            log('last send errors ' + json.dumps(last_error, sort_keys=True))

    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(1))
    signal.signal(signal.SIGUSR1, lambda *_: report())

    trunk = open_sock(a.trunk)
    ports = {vid: open_sock(ifname) for vid, ifname in access.items()}
    vid_of_fd = {s.fileno(): vid for vid, s in ports.items()}

    def send(sock, ifname, hdr, frame):
        ethertype = struct.unpack_from('!H', frame, 12)[0] if len(frame) >= 14 else 0
        try:
            sock.sendto(hdr + frame, (ifname, ethertype))
        except OSError as e:
            counts['sendErrors'] += 1
            last_error[ifname] = f'{e.strerror} (len {len(frame)})'

    cmsg_space = socket.CMSG_SPACE(AUXDATA.size)
    poller = select.poll()
    poller.register(trunk.fileno(), select.POLLIN)
    for s in ports.values():
        poller.register(s.fileno(), select.POLLIN)
    log(f'ready trunk={a.trunk} ' + ' '.join(f'{vid}={ifname}' for vid, ifname in sorted(access.items())))

    while not stopping:
        try:
            events = poller.poll(500)
        except InterruptedError:
            continue
        for fd, _ in events:
            from_trunk = fd == trunk.fileno()
            sock = trunk if from_trunk else ports[vid_of_fd[fd]]
            for _ in range(BATCH):
                try:
                    data, anc, flags, addr = sock.recvmsg(BUF, cmsg_space)
                except (BlockingIOError, InterruptedError):
                    break
                if addr[2] == PACKET_OUTGOING:
                    counts['outgoingIgnored'] += 1
                    continue
                if flags & socket.MSG_TRUNC or len(data) < VNET_HDR.size + 14:
                    counts['truncated'] += 1
                    continue
                hdr, frame = data[: VNET_HDR.size], data[VNET_HDR.size :]
                if not from_trunk:
                    vid = vid_of_fd[fd]
                    if vid:
                        frame = frame[:12] + struct.pack('!HH', ETH_P_8021Q, vid) + frame[12:]
                        hdr = shift_hdr(hdr, 4)
                    bump('toTrunk', vid)
                    send(trunk, a.trunk, hdr, frame)
                    continue
                vid = None
                for level, typ, cdata in anc:
                    if level == SOL_PACKET and typ == PACKET_AUXDATA and len(cdata) >= AUXDATA.size:
                        status, _, _, _, _, tci, _ = AUXDATA.unpack_from(cdata)
                        if status & TP_STATUS_VLAN_VALID or tci:
                            vid = tci & 0x0FFF
                            counts['tagInAuxdata'] += 1
                if vid is None and struct.unpack_from('!H', frame, 12)[0] in (ETH_P_8021Q, ETH_P_8021AD):
                    vid = struct.unpack_from('!H', frame, 14)[0] & 0x0FFF
                    frame = frame[:12] + frame[16:]
                    hdr = shift_hdr(hdr, -4)
                    counts['tagInBytes'] += 1
                vid = vid or 0  # untagged and priority-tagged (VID 0) frames are native
                port = ports.get(vid)
                if port is None:
                    bump('dropped', vid)
                    continue
                bump('fromTrunk', vid)
                send(port, access[vid], hdr, frame)
    report()
    return 0


if __name__ == '__main__':
    sys.exit(main())
