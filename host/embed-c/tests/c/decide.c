/* decide.c — a C program using libsip_interop.so through sip_interop.h only, as a C proxy would.
 * Driven by tests/c_abi.rs. Usage: decide CONFIG MODE
 *   MODE request   print the decision on an INVITE (and, when the chain forwards, on its 180 answer)
 *   MODE refused   CONFIG is broken: print the one-line error
 *   MODE fork      create the host, fork, call it from the child: print the child's status
 *   MODE threads   4 threads x 2000 requests on one host: print how many decisions came back
 *   MODE reload    print the generation, reload, print it again
 * Output: one "key=value" line per fact.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sip_interop.h"

static const char INVITE[] =
    "INVITE sip:bob@example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-c-abi\r\n"
    "Max-Forwards: 70\r\n"
    "From: <sip:alice@example.com>;tag=1\r\n"
    "To: <sip:bob@example.com>\r\n"
    "Call-ID: c-abi@192.0.2.1\r\n"
    "CSeq: 1 INVITE\r\n"
    "Contact: <sip:alice@192.0.2.1:5060>\r\n"
    "Content-Length: 0\r\n\r\n";

static const char RINGING[] =
    "SIP/2.0 180 Ringing\r\n"
    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-c-abi\r\n"
    "From: <sip:alice@example.com>;tag=1\r\n"
    "To: <sip:bob@example.com>;tag=2\r\n"
    "Call-ID: c-abi@192.0.2.1\r\n"
    "CSeq: 1 INVITE\r\n"
    "Content-Length: 0\r\n\r\n";

static const char *ACTIONS[] = {"relay", "forward", "reply", "drop"};

static SipInteropArrival arrival(const char *msg) {
    SipInteropArrival a;
    memset(&a, 0, sizeof a);
    a.message = (const uint8_t *)msg;
    a.message_len = strlen(msg);
    a.source_ip = "192.0.2.1";
    a.source_port = 5060;
    a.local_ip = "127.0.0.1";
    a.local_port = 5070;
    a.transport = SIP_INTEROP_TRANSPORT_UDP;
    return a;
}

static void print_str(const char *key, SipInteropStr s) {
    if (s.ptr) printf("%s=%.*s\n", key, (int)s.len, s.ptr);
}

static void print_decision(const char *what, const SipInteropDecision *d) {
    printf("%s.action=%s\n", what, ACTIONS[d->action]);
    print_str("ruri", d->request_uri);
    for (size_t i = 0; i < d->remove_headers_len; i++) print_str("remove", d->remove_headers[i]);
    for (size_t i = 0; i < d->add_headers_len; i++)
        printf("add=%.*s: %.*s\n", (int)d->add_headers[i].name.len, d->add_headers[i].name.ptr,
               (int)d->add_headers[i].value.len, d->add_headers[i].value.ptr);
    for (size_t i = 0; i < d->targets_len; i++) {
        const SipInteropTarget *t = &d->targets[i];
        printf("target=%s transport=%s delay_ms=%llu group=%u\n", t->uri.ptr, t->transport.ptr,
               (unsigned long long)t->delay_ms, t->fork_group);
    }
    if (d->action == SIP_INTEROP_ACTION_REPLY) {
        printf("reply=%u %s\n", d->reply_status, d->reply_reason.ptr);
        for (size_t i = 0; i < d->reply_headers_len; i++)
            printf("reply_header=%s: %s\n", d->reply_headers[i].name.ptr, d->reply_headers[i].value.ptr);
    }
    print_str("decided_by", d->decided_by);
    print_str("host_reason", d->host_reason);
    printf("%s.generation=%llu\n", what, (unsigned long long)d->generation);
}

static SipInteropHost *open_host(const char *config) {
    char err[512];
    SipInteropHost *h = sip_interop_host_new(config, err, sizeof err);
    if (!h) {
        printf("error=%s\n", err);
        exit(3);
    }
    return h;
}

static void *hammer(void *arg) {
    SipInteropHost *h = arg;
    long ok = 0;
    SipInteropArrival a = arrival(INVITE);
    for (int i = 0; i < 2000; i++) {
        SipInteropDecision *d = NULL;
        if (sip_interop_request(h, &a, &d) == SIP_INTEROP_STATUS_OK && d->action == SIP_INTEROP_ACTION_FORWARD)
            ok++;
        sip_interop_decision_free(d);
    }
    return (void *)ok;
}

int main(int argc, char **argv) {
    if (argc != 3) return 2;
    const char *config = argv[1], *mode = argv[2];
    printf("version=%s\n", sip_interop_version());

    if (!strcmp(mode, "refused")) {
        char err[512];
        SipInteropHost *h = sip_interop_host_new(config, err, sizeof err);
        printf("host=%s\nerror=%s\n", h ? "created" : "NULL", h ? "" : err);
        /* NULL arguments are refused, never a crash. */
        SipInteropDecision *d = NULL;
        printf("null_host=%d\n", sip_interop_request(NULL, NULL, &d));
        sip_interop_host_free(NULL);
        sip_interop_decision_free(NULL);
        return 0;
    }

    SipInteropHost *h = open_host(config);
    if (!strcmp(mode, "request")) {
        SipInteropArrival a = arrival(INVITE);
        SipInteropDecision *d = NULL;
        int st = sip_interop_request(h, &a, &d);
        printf("status=%d\n", st);
        if (st != SIP_INTEROP_STATUS_OK) return 1;
        print_decision("request", d);
        char state[1024];
        snprintf(state, sizeof state, "%.*s", (int)d->transaction_state.len, d->transaction_state.ptr);
        sip_interop_decision_free(d);

        SipInteropArrival r = arrival(RINGING);
        st = sip_interop_response(h, &r, state, strlen(state), &d);
        printf("response_status=%d\n", st);
        if (st == SIP_INTEROP_STATUS_OK) print_decision("response", d);
        sip_interop_decision_free(d);

        SipInteropArrival bad = arrival("INVITE sip:x SIP/2.0\r\nVia: nonsense\r\n\r\n");
        st = sip_interop_request(h, &bad, &d);
        if (st == SIP_INTEROP_STATUS_OK) print_decision("malformed", d);
        sip_interop_decision_free(d);
        SipInteropArrival empty = arrival("");
        printf("empty_message=%d\n", sip_interop_request(h, &empty, &d));
    } else if (!strcmp(mode, "fork")) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            SipInteropArrival a = arrival(INVITE);
            SipInteropDecision *d = NULL;
            int st = sip_interop_request(h, &a, &d);
            printf("child_status=%d\n", st);
            fflush(stdout);
            _exit(0);
        }
        int ws = 0;
        waitpid(pid, &ws, 0);
        printf("child_exited=%d\n", WIFEXITED(ws) ? WEXITSTATUS(ws) : -1);
    } else if (!strcmp(mode, "threads")) {
        pthread_t t[4];
        long total = 0;
        for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, hammer, h);
        for (int i = 0; i < 4; i++) {
            void *r;
            pthread_join(t[i], &r);
            total += (long)r;
        }
        printf("forwarded=%ld\n", total);
    } else if (!strcmp(mode, "reload")) {
        char err[512];
        printf("generation=%llu\n", (unsigned long long)sip_interop_generation(h));
        int st = sip_interop_reload(h, err, sizeof err);
        printf("reload=%d\n", st);
        if (st != SIP_INTEROP_STATUS_OK) printf("error=%s\n", err);
        printf("generation=%llu\n", (unsigned long long)sip_interop_generation(h));
    }
    sip_interop_host_free(h);
    return 0;
}
