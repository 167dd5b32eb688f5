"""Fixed long-term keys of the live and interop cases (parley §12).

Test keys, public by design: never use them for anything else.  Generated once
with ``parley.keys.generate_private_key`` (a suite 1 DSA key takes seconds to
generate, so they are stored).  ``KEYS[suite][name]`` is an unencrypted PKCS#8
PEM; names are ``emitter``, ``receiver`` and ``other`` (a third valid key of the
suite, for "signature by another known key" cases).
"""

KEYS = {
    1: {
        "emitter": """\
-----BEGIN PRIVATE KEY-----
MIICZAIBADCCAjkGByqGSM44BAEwggIsAoIBAQCJztmJG9Vq7k8rNbi8Vf2Uc5hG
RT4+h9oUSWEGgH1DFv3EZulU4u4tNwAbdUaq0XYb3eIl/QEhCghh0sqTZate3cK3
LiZ2vSguwtEodk9xHen1QjV0/8Yhknp4C79bYmOqscc9h+f1z3pruby75YVqu8AS
sJnU4cYMQpda/l2EdxL3DF1maLLkqFGywdQw8B1+m6W1HUB6/eMTI1HWAnyNPljC
tEKcRwhUpAgl0xyasjznm++ahrf9ntDU1RPeHfsap+H1zPiO308iheuvXidOwW+D
RjD9iwsQsraPewo9wbWYAi93D/1d8/7SzB8zuB9KoXFenOoXTnMOM3E5fZ5zAiEA
vIFlCK+2dhe69p5WahS6uLgBm6wxKgMNJCuQdrnCXFkCggEAQvOC0xWnpL4chg8K
8yUg20ksCzk0p5x2oNbJiLUW3NlSu/s0qRsKJtJryAxYVyBeq3XB3N50Xh20tZeT
RwYMXC7hoo7h9e8NzEGyJBGxQfD/6GkewcyLon7TaU/tRBcaPH1HImiB2iiC0TsT
qzRMmPFxvI5DomhjioVrbo2n6aSjTxgNdp5jBVal3kSU+Jp45BieGZr01959umTK
oH9RK/vZNt3GFbbhK/JXd2sysJtZRB7Z4KkYxFYvFfjgIBkVC5aRDQbpUastT6JQ
DrdjtvpY61uGpX+AWP5CBSk4ajf8+olH68aXO5+hAp+r1Vz4RcuO3UoJiwB/U+zy
hz940AQiAiA5tHkRQjjF1hPKMb/+LFk+jXt/r2Em41c1geiexX8RJQ==
-----END PRIVATE KEY-----
""",
        "receiver": """\
-----BEGIN PRIVATE KEY-----
MIICZQIBADCCAjkGByqGSM44BAEwggIsAoIBAQCovJtoQ9vVAour9BUmdVt0S0yj
7ACBdUq/s2d8LZUMutTG1s0Bd8qBmJaVG3I6xYn3eJsfUy9s380IQqc+gE78TGAJ
vu7abtFI0Fk+KaG7UY4CN6BTIlUfRxoqu49EsGV24l5fQPI9eWDjkGWZmsOmlWIY
c1l6oRh2nIzjr2jW2nnqEEWE473OH0BzY+bav3IN6GYeIAL79JH4ncIuADPVA4AJ
VwW7WeBXdUoslNMdZ96ZhCGbz+YR44bfgEaRXR6TErIVDULi++jTE8DHtXf1UYNN
tVAJWIqJlubqVIe0BS+nFPE6U+iu5+Rz+UtMaMcIRUwBLzexaa0ANRLUfSTZAiEA
6n6q+O4oMMlgN0wimsyQ9wEljaOqFs5aMiLpFC3DF40CggEAJgIKxRAELpgR22jU
6hqwTRhvOfEb0WKm0a25/Nd+o38xUrm5zBTryRPwUEJ1A+zdJyGD8XaZnes4HBzu
4smPfbgJiUXnmvPg1uIFsZbQfzvXN29bSlWPzGoWWoyfOGQcbFb8IUgvuR9IwKky
qze6DyU9nZy0+r/uINatTKoRVZ86L1mex+ETD+j/sZ15DhTsTQODiFvNsKCrG62n
ZZwheWpuM9pd2Gi5hgWz0g7j3Bjp6jvznm4bvCaWOak4+qZ7l9bGayzUxDQun5wm
w3C+/dvM1F55DRv4VDk2+NsubDraDPYAvl8pKlY7LrsrCQXCJCaX8LThnJOzJU6T
ePs8gwQjAiEAxsi6wrn/MI2Vc//yLGrdF3K/HKaJNtRFBrRMATALtLY=
-----END PRIVATE KEY-----
""",
        "other": """\
-----BEGIN PRIVATE KEY-----
MIICZAIBADCCAjkGByqGSM44BAEwggIsAoIBAQColkBGmEwH31xNKAz3P/CmAXAU
E0AZTCrqSgUpIf3Z0T1IXXV8R3UQdY7kHRbpZiLvpvBOcRUKq+GkZ/+qNK8iNbAy
oxCP1X+5snh5zGE4NK+vjRqQtEw/sZpOOPUqVGx5gGIbxpC1C4Qu3Itt8vvybB6Z
BKYxrWtdB+G6hW22D6Wf6M+BUlITkZ8KE4GkUL4CvZbTeP2qZw1cawuDmHPDZLB0
PCWbhbWdKySjs1tLmCL+62YbfTp6yzi/hUGdfkt1yYrr9BvcZsY6riBdFkUMOqmW
fpSEQQDfrBA84qYFXJyWM01eLWmRDG1iOHtP3Ctc/OX4Oq3kdMXEVDCuTW81AiEA
2qjqpNgLHAAFnKy0QdKWAZvVkVH9XJiABFTN2Na9YzMCggEAGJgRVSS0yJzQna19
HPmEKQmdF3SfkqDGjdjx36cq7WKMgkhF0R9V1Wod3wB2ruLqHRURjsc6nkJumVrk
J6lCXzdXNpeUQrx7KIPdBGVoXWbYJ2yB/2kyxw7ALO/x0cMiqjgsGSDxUTlrhoCj
E/1rn0mSIj3UkeP0chGPr2kp4rj7KkJJK1aFcf+d3Rm2zVRyFWovnsW69zU1Y/W/
uygeCgWg7Dh8Wq3R0+SztlorVjXkMFkJvwDL/ZGnlT62pKO+OImPeJW4qi4Fzb34
rT66Mdl0WRidwM1fqDO7t8B6rj1p+2Zr94Dyc8FVcfpmBBqQUM4a2pggt5PVVRkM
nIc5VwQiAiARvF+/bhl3cojpSatjimrp6jiAMh4EG2OI4zKXOybcAA==
-----END PRIVATE KEY-----
""",
    },
    2: {
        "emitter": """\
-----BEGIN PRIVATE KEY-----
MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDDAE3ayCpVSuTLZBNpd
7QPQzrLimCYYHsdPtqANlNXwgqhPu5C8TCMX1lvNs//MQZOhZANiAAQYyrx9CXCz
1syoX5VWE42hQGhoBEpd/I7O3ELASjpOulh0RFOGbPAc+rRi+eNM7tYeyJuR8idK
Ek88lFC6pafdmJRyutOypjDTa3drd+kbCWaoTJJrop6vW/4vWCgDjq8=
-----END PRIVATE KEY-----
""",
        "receiver": """\
-----BEGIN PRIVATE KEY-----
MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDA/M02QTZIu1VmMEFGG
M6nrI2+IPm/4+02DcWsidYG4cZJlRpkIXqmZZRUMSBYCgh2hZANiAATi0xuIO1YY
TD4o91WUD4IfuqqEr1W8XbBIhMQIV15dOd6+lM2FkZgTQ8R2stdltKgp7XCnu0tp
zcX9OwpPzhLHeaQKvsg7Taw/TKLpZ2LhIZtGIEQPFKLXhNW3UhguPQY=
-----END PRIVATE KEY-----
""",
        "other": """\
-----BEGIN PRIVATE KEY-----
MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDAoa9vXHMORidcoVD9l
u8IRuG65ZJIPODGiIywLZd0hxNZ/b/dqZgBxNSSFWMztz9ehZANiAAQMndlKYjzr
6nBAzG6VZCGLA8c28WaXsJY5a0aZA5Eg1VWUtXqxVM8tiltBc5afeW4qxYqfkEv0
vHntI4RrW63XnBktCHClBkzvV28EuP5OjtDKxfSzNSwNL5llB61LaPk=
-----END PRIVATE KEY-----
""",
    },
}


# Keys of other algorithms and curves (parley §12, R-12-2: refused with KEY_SUITE_MISMATCH
# in either suite), written once by `openssl genpkey` (RSA-2048, P-256, Ed25519, and a
# Diffie-Hellman key on ffdhe2048: suite 1's group, not a signature key). Public by
# design.
FOREIGN = {
    "rsa-2048-public": """\
-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA0AAzk0/PivswO5sUmWpI
/RFFfo5zqV21PdLTIr1CREINyJzC+CNh3u9q7QscJx+q7HPvCCummMDMOm1iGnx7
lo4rjfv6ORRXmvp7jxfQyXkM+zU+nvC2kX+XBEDmA8aTczo7cNrTTmmuaWod92cn
pofdS8j6+PVa0U0k7iiMq8yfAKNLcifeplz4Iga0MtiBhaxHfmM069FzKH1Z/n+L
SL277Qy1N7wZjv4aE5dQiYCd9+syzp+PYkm6GGX6Rck/uTD9FZDDxZMHeqimwKpG
24qmVKQE5ua4yNq9DprO7K1NFYGoI0iliNSKOpTRvTzmib/wELF7TzN3Ix93Zet5
4QIDAQAB
-----END PUBLIC KEY-----
""",
    "p256-public": """\
-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEFac9ihPUXkP52e97vkQ2agAnNSFq
D3sVD5bWYCnkzFdBK7Lw7j2jdxwCv53rlKs26iiEcxWeaPMaPhijWquuPA==
-----END PUBLIC KEY-----
""",
    "p256-private": """\
-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgFI3XF09F0FbXeg6O
v9Y5CTpUp8kNlNUJh9q2zp7U38uhRANCAAQVpz2KE9ReQ/nZ73u+RDZqACc1IWoP
exUPltZgKeTMV0ErsvDuPaN3HAK/neuUqzbqKIRzFZ5o8xo+GKNaq648
-----END PRIVATE KEY-----
""",
    "ffdhe2048-public": """\
-----BEGIN PUBLIC KEY-----
MIICJTCCARcGCSqGSIb3DQEDATCCAQgCggEBAP//////////rfhUWKK7Spqv3FYg
Jz088di5xYPOLTaVqeE2QRRkM/vMk53OJJs++X0v42NjDHXY9oGyAq7EYXrT3x7V
1f1lYSQz9R9fBm7QhWNlVT3tGvO1VxNef1fJNZhPDHDg5ot34qaJ2vPv6HId8Vih
Nq3nNTCsyk9IOnl6vAqxgrMk+2HRCKlLssjj+7lq2rdg1/RoHU9Co945TfSuVu3n
Y3K7GQsHp8juCm1wngL84c334uzANATNKDQvYZFy/pzphYP/jk8SMu7ygYPD/jsb
TG+tczu1/LwuwiAFxY7xg30Wg7LG80omwbLv+ohrQjhhKFyX//////////8CAQID
ggEGAAKCAQEAnHdc01Jm0SnKVi4e8cLeCXYu1I9pwLQT440bUqtnO4+ICrAy4w4j
et40HAuQXZMbffq7cPu8WJiwjKIjMVqy7ZO8jgYvpjdw1vDe39X/nZdTp39uj/pX
RAnZCW7HjZSPcd5rCP4LY7NOBdFt8RoBjgylrzmGY5yqRT0Jm93Ge5WgZ8XMGBM8
uZD7HcS1LIEQqwKqJpWM6E71CTJ0CzqYILfkZteUtthth0NWHb8DE153WvTvu2gd
i6wuh8YaSW7EdDoKmleuG7Nh9UkNDAku4QNjgdfH8a6CqPeZLqurHjSxivoEiXTc
kI41AhO9Nk6HNAL4od5Ys105JCRsxPNzPQ==
-----END PUBLIC KEY-----
""",
    "ffdhe2048-private": """\
-----BEGIN PRIVATE KEY-----
MIIBPwIBADCCARcGCSqGSIb3DQEDATCCAQgCggEBAP//////////rfhUWKK7Spqv
3FYgJz088di5xYPOLTaVqeE2QRRkM/vMk53OJJs++X0v42NjDHXY9oGyAq7EYXrT
3x7V1f1lYSQz9R9fBm7QhWNlVT3tGvO1VxNef1fJNZhPDHDg5ot34qaJ2vPv6HId
8VihNq3nNTCsyk9IOnl6vAqxgrMk+2HRCKlLssjj+7lq2rdg1/RoHU9Co945TfSu
Vu3nY3K7GQsHp8juCm1wngL84c334uzANATNKDQvYZFy/pzphYP/jk8SMu7ygYPD
/jsbTG+tczu1/LwuwiAFxY7xg30Wg7LG80omwbLv+ohrQjhhKFyX//////////8C
AQIEHwIdALapoWsVwzu8ZVKVbo/NSsxcNY6oWfTpAW69PQ8=
-----END PRIVATE KEY-----
""",
    "ed25519-public": """\
-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEANm3FHxRKKUn2xjj70R9EwOl7A14Vs4KTuj6PC4+20Pk=
-----END PUBLIC KEY-----
""",
}
