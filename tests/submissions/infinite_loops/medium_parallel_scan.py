# scan_depth loops forever; scan_work loops forever and swallows the timeout.
def scan_depth(n):
    while True:
        pass


def scan_work(n):
    while True:
        try:
            while True:
                pass
        except BaseException:
            pass
